package score

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Write prints the report for people: attack kinds, benign look-alikes,
// totals, then the missed episodes and false alarms (at most limit of
// each; 0 for none).
func (r *Report) Write(w io.Writer, limit int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTACK KIND\tRULE\tEPISODES\tDETECTED\tRECALL\tALERTS\tTRUE\tPRECISION\tDELAY P50\tDELAY MAX")
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%d\t%d\t%.3f\t%s\t%s\n", k.Kind, k.Rule, k.Episodes, k.Detected, k.Recall, k.Alerts, k.True, k.Precision, dur(k.DelayP50, k.Detected), dur(k.DelayMax, k.Detected))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENIGN KIND\tIMITATES\tEPISODES\tALERTED\tFALSE ALARMS\tBY RULE")
	for _, b := range r.Benign {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", b.Kind, b.Imitates, b.Episodes, b.Alerted, b.Alerts, byRule(b.ByRule))
	}
	tw.Flush()
	fmt.Fprintln(w)
	minRecall, minKind := 1.0, ""
	for _, k := range r.Kinds {
		if k.Recall < minRecall || minKind == "" {
			minRecall, minKind = k.Recall, k.Kind
		}
	}
	fmt.Fprintf(w, "alerts %d: %d true, %d false (%d on benign look-alikes, %d on unlabelled activity); precision %.3f\n",
		r.Alerts, r.True, r.FalseBenign+r.FalseUnlabelled, r.FalseBenign, r.FalseUnlabelled, r.Precision)
	if minKind != "" {
		fmt.Fprintf(w, "lowest recall %.3f (%s); %d attack episodes missed\n", minRecall, minKind, len(r.Missed))
	}
	if limit <= 0 {
		return
	}
	for i, m := range r.Missed {
		if i == limit {
			fmt.Fprintf(w, "… and %d more missed\n", len(r.Missed)-limit)
			break
		}
		fmt.Fprintf(w, "missed: %s %s (%s, %s): %s\n", m.Kind, m.Episode, m.Tenant, m.Start.UTC().Format(time.RFC3339), m.Note)
	}
	for i, f := range r.FalseAlarms {
		if i == limit {
			fmt.Fprintf(w, "… and %d more false alarms\n", len(r.FalseAlarms)-limit)
			break
		}
		on := "unlabelled activity"
		if len(f.Episodes) > 0 {
			on = strings.Join(f.Episodes, ", ")
		}
		fmt.Fprintf(w, "false alarm: %s at %s (%s) on %s: %s\n", f.Rule, f.At, f.Tenant, on, f.Summary)
	}
}

func dur(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return d.Round(time.Second).String()
}

func byRule(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
