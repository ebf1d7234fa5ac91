package runner

import (
	"bytes"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// setOf builds a rule set from name → YAML.
func setOf(t testing.TB, files map[string]string) *Set {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	rs, err := detect.LoadFS(fsys, "rules")
	if err != nil {
		t.Fatalf("loading rules:\n%v", err)
	}
	set, err := buildSet(rs, detect.DefaultConfig(), DefaultConfig().LocalGroupBy)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

const (
	byUser = `id: by_user
version: 1
title: edits by one account
severity: low
filter: event.category == "data_change"
group_by: [user.id]
window: 10m
condition: count() >= 3
`
	byRecord = `id: by_record
version: 1
title: edits of one record
severity: low
filter: event.category == "data_change" && event.action == "update"
group_by: [object.type, object.id]
window: 10m
condition: count() >= 3
`
	byTenant = `id: by_tenant
version: 1
title: grants in a tenant
severity: low
filter: event.category == "permission"
window: 1h
condition: count() >= 100
`
	stateless = `id: grant
version: 1
title: a grant
severity: low
filter: event.category == "permission"
group_by: [object.id]
`
)

// at is a fixed event time plus d.
func at(d time.Duration) time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Add(d) }

// mkEvent is a valid event of user u.
func mkEvent(id string, ts time.Time, category, action, u string) *event.Event {
	return &event.Event{ID: id, Timestamp: ts, Tenant: "acme", Source: event.Source{System: "salesforce"},
		Event:  event.Activity{Category: category, Action: action, Outcome: "success"},
		User:   event.User{ID: u, Name: u + "@acme.example"},
		Object: event.Object{Type: "contact", ID: "003X"}}
}

func TestStreamsSplitRulesByGroup(t *testing.T) {
	set := setOf(t, map[string]string{"a.yaml": byUser, "b.yaml": byRecord, "c.yaml": byTenant, "d.yaml": stateless})
	if got := set.Main.rules; len(got) != 2 || got[0] != "by_user" || got[1] != "grant" {
		t.Errorf("main stream rules %v, want by_user and the stateless grant", got)
	}
	if len(set.sigs) != 2 || set.sigs[0] != "" || set.sigs[1] != "object.type,object.id" {
		t.Fatalf("signatures %q", set.sigs)
	}
	rec := set.Rekeyed["object.type,object.id"]
	if len(rec.rules) != 1 || rec.rules[0] != "by_record" || len(rec.key) != 2 {
		t.Errorf("record stream %+v", rec)
	}
	if rec.horizon != 10*time.Minute+time.Minute {
		t.Errorf("record stream horizon %s, want the window plus the lateness", rec.horizon)
	}
	e := mkEvent("e1", at(0), "data_change", "update", "u1")
	if !rec.eng.Wants(e) || set.Rekeyed[""].eng.Wants(e) {
		t.Error("an update is for the record rule only")
	}
	if k := string(rec.copyKey(nil, e)); k != "acme\x00object.type,object.id\x00contact\x00003X" {
		t.Errorf("copy key %q", k)
	}
	if k := string(set.Rekeyed[""].copyKey(nil, e)); k != "acme\x00" {
		t.Errorf("tenant-only copy key %q", k)
	}
}

func TestStateRoundTrip(t *testing.T) {
	set := setOf(t, map[string]string{"a.yaml": byUser, "b.yaml": byRecord})
	st := set.Rekeyed["object.type,object.id"]
	u := &unit{sig: st.sig, st: st, sh: st.eng.NewShard()}
	for i, id := range []string{"e1", "e2"} {
		u.sh.Process(mkEvent(id, at(time.Duration(i)*time.Minute), "data_change", "update", "u1"), nil)
	}
	u.dedup.admit(copyInfo{src: 3, offset: 10, floor: 8})
	u.dedup.admit(copyInfo{src: 3, offset: 12, floor: 8})
	u.dedup.admit(copyInfo{src: 1, offset: 5, floor: 5})
	ps := &partState{next: 42, set: set, units: map[string]*unit{st.sig: u}}
	blob, err := ps.encode()
	if err != nil {
		t.Fatal(err)
	}

	got, rep, err := decodeState(blob, set, false)
	if err != nil || len(rep.migrated)+len(rep.dropped) != 0 {
		t.Fatalf("decode: %v %+v", err, rep)
	}
	if got.next != 42 || got.units[st.sig] == nil {
		t.Fatalf("decoded %+v", got)
	}
	d := got.units[st.sig].dedup
	if d.admit(copyInfo{src: 3, offset: 12, floor: 8}) || d.admit(copyInfo{src: 3, offset: 7, floor: 8}) || !d.admit(copyInfo{src: 3, offset: 11, floor: 8}) {
		t.Error("the duplicate filter did not survive the round trip")
	}
	out := got.units[st.sig].sh.Process(mkEvent("e3", at(2*time.Minute), "data_change", "update", "u2"), nil)
	if len(out) != 1 || out[0].Kind != detect.OutputAlert {
		t.Fatalf("the restored window did not complete: %v", out)
	}

	// Under other rules: a changed threshold keeps the state (migrated),
	// a signature no rule has any more is dropped.
	v2 := setOf(t, map[string]string{"a.yaml": byUser, "b.yaml": byRecord[:len(byRecord)-len("condition: count() >= 3\n")] + "condition: count() >= 4\n"})
	got, rep, err = decodeState(blob, v2, false)
	if err != nil || len(rep.migrated) != 1 {
		t.Fatalf("decode under new rules: %v %+v", err, rep)
	}
	gone := setOf(t, map[string]string{"a.yaml": byUser})
	got, rep, err = decodeState(blob, gone, false)
	if err != nil || len(rep.dropped) != 1 || len(got.units) != 0 {
		t.Fatalf("decode without the record rule: %v %+v %+v", err, rep, got)
	}

	for _, n := range []int{0, 3, len(blob) / 2, len(blob) - 1} {
		if _, _, err := decodeState(blob[:n], set, false); err == nil {
			t.Errorf("a blob cut at %d bytes decoded", n)
		}
	}
	bad := bytes.Clone(blob)
	bad[len(bad)/2] ^= 0xff
	if _, _, err := decodeState(bad, set, false); err == nil {
		t.Error("a damaged blob decoded")
	} else if !errors.Is(err, errBlob) && !errors.Is(err, detect.ErrSnapshotCorrupt) {
		t.Errorf("damaged blob: %v", err)
	}
}

func TestDedup(t *testing.T) {
	var d dedup
	steps := []struct {
		ci   copyInfo
		want bool
	}{
		{copyInfo{src: 0, offset: 5, floor: 5}, true},
		{copyInfo{src: 0, offset: 6, floor: 5}, true},
		{copyInfo{src: 1, offset: 6, floor: 0}, true},  // another source
		{copyInfo{src: 0, offset: 6, floor: 5}, false}, // written again
		{copyInfo{src: 0, offset: 8, floor: 5}, true},  // 7 was lost to a failed produce: it comes again later
		{copyInfo{src: 0, offset: 5, floor: 5}, false}, // the restarted source's copies from its commit (5)
		{copyInfo{src: 0, offset: 7, floor: 5}, true},  // the one that had failed
		{copyInfo{src: 0, offset: 8, floor: 5}, false},
		{copyInfo{src: 0, offset: 9, floor: 9}, true}, // the floor moves: everything below is acknowledged
		{copyInfo{src: 0, offset: 8, floor: 9}, false},
	}
	for i, s := range steps {
		if got := d.admit(s.ci); got != s.want {
			t.Errorf("step %d %+v: admit %v, want %v", i, s.ci, got, s.want)
		}
	}
	if n := len(d.src[0].seen); n != 1 {
		t.Errorf("%d offsets remembered below the floor's reach, want 1", n)
	}
}
