package simulate

import (
	"fmt"
	"strings"
	"time"
)

// DetectConfig is the detector configuration (YAML, detect.LoadConfig's
// format) that matches the simulated world: each tenant's working
// calendar (zone, days, hours, holidays), which off-hours rules need, and,
// only when the history is shorter than the pack's rules need to learn,
// per-tenant parameter overrides so that they can fire at all (a dormant
// account needs a month of silence; a new country needs a week of
// learning). Replay and the detector take it with --config.
func (s *Simulation) DetectConfig() []byte {
	w := s.w
	var b strings.Builder
	fmt.Fprintf(&b, "# Detector configuration for the simulated tenants (trailwatch simulate --seed %d).\n", w.cfg.Seed)
	b.WriteString("lateness: 1m\ntenants:\n")
	overrides := w.historyOverrides()
	for _, t := range w.tenants {
		fmt.Fprintf(&b, "  %s:\n    calendar:\n", t.id)
		fmt.Fprintf(&b, "      zone: %s\n", t.spec.Zone)
		fmt.Fprintf(&b, "      days: [%s]\n", strings.Join(t.spec.Days, ", "))
		fmt.Fprintf(&b, "      hours: %q\n", t.spec.Hours)
		if len(t.spec.Holidays) > 0 {
			fmt.Fprintf(&b, "      holidays: [%s]\n", strings.Join(t.spec.Holidays, ", "))
		}
		if len(overrides) > 0 {
			b.WriteString("    rules:\n")
			for _, o := range overrides {
				fmt.Fprintf(&b, "      %s:\n        params: {%s: %s}\n", o[0], o[1], o[2])
			}
		}
	}
	return []byte(b.String())
}

// historyOverrides are the parameter overrides a short history needs:
// rule, parameter, value. A new country needs the account known for a
// week (learning); with less history the learning is shortened to what
// there is. Dormancy needs a month of silence that no short history can
// tell from a long weekend, so with less than 35 days of history the
// dormant-account episodes are not generated at all rather than the rule
// tuned into noise.
func (w *world) historyOverrides() [][3]string {
	var out [][3]string
	if w.histDays < 8 {
		learn := time.Duration(max(1, w.histDays-1)) * 24 * time.Hour
		if w.histDays <= 1 {
			learn = time.Hour
		}
		out = append(out, [3]string{"auth.new_country", "learning", strings.TrimSuffix(strings.TrimSuffix(learn.String(), "0s"), "0m")})
	}
	return out
}
