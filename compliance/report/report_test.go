package report

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestParseRefusesBadDefinitions(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown query": {"name: r\nsections:\n  - title: a\n    query: user-timeline\n    params: {person: p}\n  - title: b\n    query: nope\n",
			`r.yaml:6: sections[1].query: no named query "nope"`},
		"wrong type": {"name: r\nperiod: 24h\nsections:\n  - query: exports-by-person\n    params: {min_records: lots}\n",
			`r.yaml:4: sections[0].params: query exports-by-person: min_records: "lots" is not a UInt64`},
		"unknown param": {"name: r\nperiod: 24h\nsections:\n  - query: exports-by-person\n    params: {colour: red}\n",
			"r.yaml:4: sections[0].params.colour: query exports-by-person takes no such parameter"},
		"missing param": {"name: r\nsections:\n  - query: record-access\n",
			"r.yaml:3: sections[0]: query record-access needs parameter object_id"},
		"bad chart": {"name: r\nsections:\n  - query: failed-login-map\n    chart: {kind: pie, x: country, y: failures}\n",
			`r.yaml:3: sections[0].chart.kind: "pie"`},
		"bad name":    {"name: R!\nsections:\n  - query: failed-login-map\n", `r.yaml:1: name: "R!"`},
		"bad yaml":    {"name: [\n", "r.yaml: yaml:"},
		"no sections": {"name: r\n", "sections: at least one is required"},
	} {
		_, err := Parse([]byte(tc.yaml), "r.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func openStore(t *testing.T) *chstore.Store {
	t.Helper()
	st := history.Migrated(t)
	return st
}

// wellFormed parses page as HTML-flavoured XML: every element closed,
// attributes quoted, entities known.
func wellFormed(page string) error {
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict, d.Entity = true, xml.HTMLEntity
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestBuiltinReports runs every built-in report on generated data and
// checks what each finds, and that each HTML page is well-formed and
// self-contained.
func TestBuiltinReports(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	var evs []*event.Event
	add := func(at time.Time, sys, user, cat, action, outcome string, f func(*event.Event)) {
		e := &event.Event{ID: fmt.Sprint("e", len(evs)), Timestamp: at, Tenant: "acme", Source: event.Source{System: sys},
			Event: event.Activity{Category: cat, Action: action, Outcome: outcome}, User: event.User{ID: user, Name: user + "@acme.example"}}
		if f != nil {
			f(e)
		}
		evs = append(evs, e)
	}
	// A week of hourly logins from salesforce; hubspot goes silent 3 hours ago.
	for h := 1; h <= 168; h++ {
		at := now.Add(-time.Duration(h)*time.Hour + time.Minute)
		add(at, "salesforce", "005a", "authentication", "login", "success", nil)
		add(at.Add(time.Second), "salesforce", "005b", "authentication", "login", "success", nil)
		if h > 3 {
			add(at, "hubspot", "77", "authentication", "login", "success", nil)
		}
	}
	for i := range 4 {
		add(now.Add(-time.Duration(i+1)*time.Hour), "salesforce", "005x", "authentication", "login", "failure", func(e *event.Event) {
			e.Event.Reason, e.Client.Geo.Country = "bad_password", []string{"RU", "RU", "BR", "RU"}[i]
		})
	}
	add(now.Add(-2*time.Hour), "salesforce", "005a", "export", "export", "success", func(e *event.Event) {
		e.Records, e.HasRecords, e.Object = 5000, true, event.Object{Type: "report", ID: "00O1", Name: "All contacts"}
		e.Related = []event.Related{{Type: "contact", ID: "003DS"}}
	})
	add(now.Add(-3*time.Hour), "salesforce", "005admin", "permission", "grant", "success", func(e *event.Event) {
		e.TargetUser, e.Permission = event.TargetUser{ID: "005b"}, event.Permission{Name: "Export Reports"}
	})
	add(now.Add(-4*time.Hour), "salesforce", "005admin", "configuration", "audit_settings_change", "success", func(e *event.Event) {
		e.Changes = []event.Change{{Field: "FieldHistoryTracking", Old: "true", New: "false"}}
	})
	add(now.Add(-5*time.Hour), "salesforce", "005b", "data_access", "view", "success", func(e *event.Event) { e.Object = event.Object{Type: "contact", ID: "003DS"} })
	add(now.Add(-6*time.Hour), "salesforce", "005b", "data_change", "update", "success", func(e *event.Event) {
		e.Object, e.Changes = event.Object{Type: "contact", ID: "003DS"}, []event.Change{{Field: "Phone", Old: "1", New: "2"}}
	})
	history.Store(t, st, evs, 0, func(e *event.Event) time.Time { return e.Timestamp.Add(2 * time.Second) })
	// Rejects: hubspot's collector sent local times for its last 3 hours
	// (5 in the last hour), one alert was malformed, another tenant had
	// its own.
	dead := func(tenant, stage, source, reason, field string, at time.Time) {
		t.Helper()
		if err := st.Exec(t.Context(), `INSERT INTO dead_letters (tenant, stage, reason, field, source, received_at, raw_size, raw, ingested_at, kafka_partition, kafka_offset)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenant, stage, reason, field, source, at, uint64(200), "masked", at, int32(0), int64(at.UnixMilli())); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 15 {
		dead("acme", "ingest", "hubspot", `timestamp: "…" has no UTC offset`, "timestamp", now.Add(-time.Duration(i*12+1)*time.Minute))
	}
	dead("acme", "sink", "", "alert is missing [rule.id]", "", now.Add(-2*time.Hour))
	dead("globex", "ingest", "salesforce", "offset 12: not JSON", "", now.Add(-time.Minute))

	defs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"audit-trail-health": {"hubspot|0|", "|silent", "salesforce|2|",
			`ingest|hubspot|timestamp: "…" has no UTC offset|timestamp|5|15|3000|`, "sink||alert is missing [rule.id]||0|1|200|"},
		"config-changes":       {"audit_settings_change", "FieldHistoryTracking: true → false"},
		"exports-by-person":    {"005a|005a@acme.example|1|5000|5000"},
		"failed-logins":        {"005x|005x@acme.example|RU|3|bad_password", "005x|005x@acme.example|BR|1", "RU|3|1"},
		"gdpr-person-access":   {"|export|success|005a|", "|view|success|005b|", "|update|005b|005b@acme.example|Phone|1|2|"},
		"permission-changes":   {"|grant|success|005admin|005admin@acme.example|005b||Export Reports|"},
		"user-activity-trends": {"2026-11-10|authentication|", "2026-11-03|authentication|"},
	}
	if len(defs) != len(want) {
		t.Fatalf("%d built-in reports, want %d", len(defs), len(want))
	}
	for _, d := range defs {
		t.Run(d.Name, func(t *testing.T) {
			params := map[string]string{}
			if d.Name == "gdpr-person-access" {
				params["object_id"] = "003DS"
			}
			r, err := Run(t.Context(), st, d, "acme", params, now)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for i, s := range r.Sections {
				for _, row := range s.Rows {
					all = append(all, strings.Join(row, "|"))
				}
				var b strings.Builder
				if err := r.WriteCSV(&b, i); err != nil {
					t.Fatal(err)
				}
				if len(s.Rows) > 0 && !strings.HasPrefix(b.String(), strings.Join(s.Columns, ",")+"\n") {
					t.Errorf("csv header: %q", b.String())
				}
			}
			text := strings.Join(all, "\n")
			for _, w := range want[d.Name] {
				if !strings.Contains(text, w) {
					t.Errorf("no row with %q in\n%s", w, text)
				}
			}
			if d.Name == "audit-trail-health" && strings.Contains(text, "not JSON") {
				t.Errorf("another tenant's rejects in acme's report:\n%s", text)
			}
			var page strings.Builder
			if err := r.WriteHTML(&page); err != nil {
				t.Fatal(err)
			}
			if err := wellFormed(page.String()); err != nil {
				t.Errorf("HTML is not well-formed: %v\n%s", err, page.String())
			}
			for _, banned := range []string{"<script", "src=", "href=", "@import", "url("} {
				if strings.Contains(page.String(), banned) {
					t.Errorf("HTML is not self-contained: %q", banned)
				}
			}
			if d.Name == "user-activity-trends" && !strings.Contains(page.String(), "<polyline") {
				t.Error("no line chart")
			}
		})
	}
	if _, err := Run(t.Context(), st, defs[4], "acme", nil, now); err == nil || !strings.Contains(err.Error(), "object_id is required") {
		t.Errorf("gdpr without object_id: %v", err)
	}
}
