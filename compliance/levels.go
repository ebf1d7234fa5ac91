package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/trailwatch/trailwatch/compliance/tracking"
	"github.com/trailwatch/trailwatch/internal/chstore"
)

// LevelEstimate is what one tracking level would store of a source's
// traffic over the window, and per day.
type LevelEstimate struct {
	Source       string  `json:"source"`
	Level        string  `json:"level"`
	Events       uint64  `json:"events"`
	Bytes        uint64  `json:"bytes"`
	EventsPerDay float64 `json:"events_per_day"`
	BytesPerDay  float64 `json:"bytes_per_day"`
	Share        float64 `json:"share_of_bytes"` // of the advanced level (everything)
}

// EstimateLevels reads a tenant's traffic between from and to (named query
// tracking-volume) and returns, per source and level, the events and
// uncompressed bytes the level keeps.
func EstimateLevels(ctx context.Context, st *chstore.Store, tenant string, from, to time.Time) ([]LevelEstimate, error) {
	type vol struct{ events, bytes uint64 }
	bySource := map[string]map[string]vol{}
	err := each(ctx, st, "tracking-volume", map[string]string{"tenant": tenant, "from": timeParam(from), "to": timeParam(to)},
		func(scan func(...any) error) error {
			var source, category string
			var v vol
			if err := scan(&source, &category, &v.events, &v.bytes); err != nil {
				return err
			}
			if bySource[source] == nil {
				bySource[source] = map[string]vol{}
			}
			bySource[source][category] = v
			return nil
		})
	if err != nil {
		return nil, err
	}
	days := to.Sub(from).Hours() / 24
	var out []LevelEstimate
	sources := make([]string, 0, len(bySource))
	for s := range bySource {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	for _, s := range sources {
		var all uint64
		for _, v := range bySource[s] {
			all += v.bytes
		}
		for _, level := range []string{tracking.Basic, tracking.Standard, tracking.Advanced} {
			e := LevelEstimate{Source: s, Level: level}
			for cat, v := range bySource[s] {
				if tracking.Keeps(level, cat) {
					e.Events += v.events
					e.Bytes += v.bytes
				}
			}
			if days > 0 {
				e.EventsPerDay, e.BytesPerDay = float64(e.Events)/days, float64(e.Bytes)/days
			}
			if all > 0 {
				e.Share = float64(e.Bytes) / float64(all)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// WriteLevelEstimates renders estimates as json or a table.
func WriteLevelEstimates(w io.Writer, es []LevelEstimate, format string) error {
	if format == "json" {
		if es == nil {
			es = []LevelEstimate{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(es)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\tlevel\tevents/day\tMB/day (uncompressed)\tshare\t")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.0f%%\t\n", e.Source, e.Level, e.EventsPerDay, e.BytesPerDay/1e6, 100*e.Share)
	}
	return tw.Flush()
}
