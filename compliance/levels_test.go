package compliance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestEstimateLevels(t *testing.T) {
	st := openStore(t)
	var evs []*event.Event
	for i, cat := range []string{"authentication", "authentication", "data_change", "export", "data_access", "data_access", "data_access", "data_access"} {
		e := update(fmt.Sprint("e", i), t0.Add(time.Duration(i)*time.Hour), "005a", "contact", "003X")
		e.Event.Category = cat
		evs = append(evs, e)
	}
	dup := *evs[0] // sent twice: counted once
	evs = append(evs, &dup)
	hub := update("h1", t0, "005b", "contact", "003Y")
	hub.Source.System, hub.Event.Category = "hubspot", "data_access"
	evs = append(evs, hub)
	history.Store(t, st, evs, 0, nil)

	es, err := EstimateLevels(t.Context(), st, "acme", t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s %s %d %.1f", e.Source, e.Level, e.Events, e.EventsPerDay))
		if e.Level == "advanced" && e.Share != 1 || e.Bytes == 0 && e.Events > 0 {
			t.Errorf("estimate %+v", e)
		}
	}
	want := "hubspot basic 0 0.0|hubspot standard 0 0.0|hubspot advanced 1 0.5|salesforce basic 2 1.0|salesforce standard 4 2.0|salesforce advanced 8 4.0"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	var b strings.Builder
	if err := WriteLevelEstimates(&b, es, "table"); err != nil || !strings.Contains(b.String(), "salesforce") {
		t.Errorf("table: %v\n%s", err, b.String())
	}
}
