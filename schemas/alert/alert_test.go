package alert

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAlertID(t *testing.T) {
	a := AlertID("r1", "acme", "k", "e1", "e9")
	if !uuidRE.MatchString(a) {
		t.Fatalf("AlertID = %q, not a version 5 UUID", a)
	}
	if b := AlertID("r1", "acme", "k", "e1", "e9"); a != b {
		t.Fatalf("AlertID not deterministic: %q != %q", a, b)
	}
	different := [][]string{
		{"r2", "acme", "k", "e1", "e9"},
		{"r1", "acme2", "k", "e1", "e9"},
		{"r1", "acme", "k2", "e1", "e9"},
		{"r1", "acme", "k", "e1", "e8"},
		{"r1", "acme", "k", "e1e", "9"},
		{"r1", "acme", "k", "e1"},
	}
	for _, d := range different {
		if b := AlertID(d[0], d[1], d[2], d[3:]...); b == a {
			t.Errorf("AlertID(%q) collides with the reference id", d)
		}
	}
	x := ActionID(a, "freeze_account")
	if !uuidRE.MatchString(x) || x == ActionID(a, "notify") || x != ActionID(a, "freeze_account") {
		t.Errorf("ActionID = %q: want a deterministic UUID that differs by type", x)
	}
}

func TestAlertJSONRoundTrip(t *testing.T) {
	ts := time.Date(2026, 11, 3, 2, 14, 7, 412_345_678, time.FixedZone("", -5*3600))
	a := Alert{
		ID:     "id",
		Rule:   Rule{ID: "r", Version: "3", Title: "T", Severity: "high"},
		Tenant: "acme", Group: map[string]string{"user.id": "u1"},
		WindowStart: ts, WindowEnd: ts.Add(time.Minute), TriggeredAt: ts.Add(time.Minute), DetectedAt: ts.Add(time.Hour),
		EventIDs: []string{"e1", "e2"}, Summary: "s", Values: map[string]any{"count": 5},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"window_start":"2026-11-03T07:14:07.412Z"`, `"tags":[]`, `"actions":[]`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON %s lacks %s", s, want)
		}
	}
	var back Alert
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.WindowStart.Equal(ts.Truncate(time.Millisecond)) || back.Group["user.id"] != "u1" || back.Values["count"] != float64(5) {
		t.Errorf("round trip lost data: %+v", back)
	}
	done := ts.Add(2 * time.Hour)
	act := Action{ID: "x", Type: "notify", AlertID: "id", Tenant: "acme", Target: "u1", Mode: ModeDryRun, Status: StatusDone, RequestedAt: ts, CompletedAt: &done}
	b, err = json.Marshal(act)
	if err != nil {
		t.Fatal(err)
	}
	var back2 Action
	if err := json.Unmarshal(b, &back2); err != nil {
		t.Fatal(err)
	}
	if back2.CompletedAt == nil || !back2.CompletedAt.Equal(done.Truncate(time.Millisecond)) || back2.Mode != ModeDryRun {
		t.Errorf("action round trip: %s -> %+v", b, back2)
	}
}

func TestActionJSONCarriesEveryField(t *testing.T) {
	now := time.Date(2026, 11, 3, 2, 14, 7, 412e6, time.UTC)
	done := now.Add(time.Second)
	in := Action{ID: "a", Type: "freeze_account", AlertID: "al", Tenant: "acme", Target: "005", Mode: ModeEnforce,
		Status: StatusDone, RequestedAt: now, CompletedAt: &done, Error: "e", RuleID: "r", RuleVersion: "2",
		Severity: "high", Summary: "s", TargetName: "jdoe", TargetType: "human", Actor: "oncall", Attempt: 3,
		Detail: "d", RecordedAt: &done, Undoes: "u"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Action
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip lost fields:\n in %+v\nout %+v\njson %s", in, out, b)
	}
	if !strings.Contains(string(b), `"requested_at":"2026-11-03T02:14:07.412Z"`) {
		t.Fatalf("time format: %s", b)
	}
}
