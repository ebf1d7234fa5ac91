package compliance

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// stored is an event at its log position, as the reference sees it.
type stored struct {
	e   *event.Event
	off int64
}

// referenceAsOf computes a record's field values as of an instant straight
// from the events, independently of the SQL: keep each id's first log
// position, order by (time, position), replay the changes in order.
func referenceAsOf(log []stored, obj string, asOf time.Time) []FieldValue {
	seen := map[string]bool{}
	var evs []stored
	for _, s := range log {
		if s.e.Object.ID != obj || s.e.Timestamp.After(asOf) || len(s.e.Changes) == 0 || seen[s.e.ID] {
			continue
		}
		seen[s.e.ID] = true
		evs = append(evs, s)
	}
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].e.Timestamp.Equal(evs[j].e.Timestamp) {
			return evs[i].e.Timestamp.Before(evs[j].e.Timestamp)
		}
		return evs[i].off < evs[j].off
	})
	state := map[string]FieldValue{}
	for _, s := range evs {
		for _, c := range s.e.Changes {
			state[c.Field] = FieldValue{Field: c.Field, Value: c.New, ChangedAt: s.e.Timestamp.UTC(), ChangedBy: s.e.User.ID, EventID: s.e.ID}
		}
	}
	out := []FieldValue{}
	for _, f := range state {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// TestAsOfMatchesReference is the property test: random change histories
// (ties in time, events sent twice, log order unlike time order, other
// records interleaved), and at random instants the reconstruction equals
// the reference.
func TestAsOfMatchesReference(t *testing.T) {
	st := openStore(t)
	rng := rand.New(rand.NewPCG(13, 2026))
	const trials = 40
	fields := []string{"StageName", "Amount", "Email", "OwnerId", "Description"}
	var evs []*event.Event
	objs := make([]string, trials)
	for trial := range trials {
		objs[trial] = recordID(trial)
		n := 1 + rng.IntN(30)
		for i := range n {
			// Few distinct instants, so that ties are common.
			at := t0.Add(time.Duration(rng.IntN(12)) * time.Minute)
			var cs []event.Change
			for _, k := range rng.Perm(len(fields))[:1+rng.IntN(3)] {
				cs = append(cs, chg(fields[k], fmt.Sprint("v", rng.IntN(5)), fmt.Sprint("v", rng.IntN(5))))
			}
			user := fmt.Sprint("005u", rng.IntN(3))
			e := update(fmt.Sprintf("t%d-e%d", trial, i), at, user, "opportunity", objs[trial], cs...)
			evs = append(evs, e)
			if rng.IntN(8) == 0 { // sent twice: the same event at another position
				cp := *e
				evs = append(evs, &cp)
			}
			if rng.IntN(4) == 0 { // another record of the same tenant
				evs = append(evs, update(fmt.Sprintf("t%d-x%d", trial, i), at, user, "opportunity", objs[trial]+"X", chg("StageName", "a", "b")))
			}
		}
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	log := make([]stored, len(evs))
	for i, e := range evs {
		log[i] = stored{e: e, off: int64(i)}
	}
	history.Store(t, st, evs, 0, nil)

	for trial := range trials {
		for _, probe := range []time.Duration{-time.Minute, 0, time.Duration(rng.IntN(12)) * time.Minute, time.Duration(rng.IntN(12))*time.Minute + 30*time.Second, time.Hour} {
			asOf := t0.Add(probe)
			got, err := AsOf(t.Context(), st, RecordRef{Tenant: "acme", ObjectType: "opportunity", ObjectID: objs[trial]}, asOf)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []FieldValue{}
			}
			if want := referenceAsOf(log, objs[trial], asOf); !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d as of %s:\n got %+v\nwant %+v", trial, asOf.Format(time.RFC3339), got, want)
			}
		}
	}
}

func TestVersionsAndAccess(t *testing.T) {
	st := openStore(t)
	obj := recordID(1)
	create := update("c1", t0, "005a", "contact", obj, chg("Email", "", "a@x.example"), chg("Phone", "", "1"))
	create.Event.Action = "create"
	upd := update("u1", t0.Add(time.Hour), "005b", "contact", obj, chg("Email", "a@x.example", "b@x.example"))
	upd.Client.IP, upd.Client.Geo.Country, upd.Comment = "198.51.100.7", "DE", "customer asked"
	view := &event.Event{ID: "v1", Timestamp: t0.Add(2 * time.Hour), Tenant: "acme", Source: event.Source{System: "salesforce"},
		Event: event.Activity{Category: "data_access", Action: "view", Outcome: "success"}, User: event.User{ID: "005c"},
		Object: event.Object{Type: "contact", ID: obj}}
	export := &event.Event{ID: "x1", Timestamp: t0.Add(3 * time.Hour), Tenant: "acme", Source: event.Source{System: "salesforce"},
		Event: event.Activity{Category: "export", Action: "export", Outcome: "success"}, User: event.User{ID: "005d"},
		Object: event.Object{Type: "report", ID: "00O1"}, Related: []event.Related{{Type: "contact", ID: obj}}, Records: 40, HasRecords: true}
	other := update("o1", t0.Add(time.Hour), "005b", "contact", recordID(2), chg("Email", "q", "r"))
	upd2 := *upd // the update sent twice
	history.Store(t, st, []*event.Event{create, upd, view, export, other, &upd2}, 0, nil)

	vs, err := Versions(t.Context(), st, RecordRef{Tenant: "acme", ObjectType: Any, ObjectID: obj}, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s %v", v.At.Format("15:04"), v.EventID, v.Action, v.UserID, v.ClientIP, v.Comment, v.Changes))
	}
	want := []string{
		"09:00 c1 create 005a   [{Email  a@x.example} {Phone  1}]",
		"10:00 u1 update 005b 198.51.100.7 customer asked [{Email a@x.example b@x.example}]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("versions:\n got %q\nwant %q", got, want)
	}
	if vs, _ := Versions(t.Context(), st, RecordRef{Tenant: "acme", ObjectType: "contact", ObjectID: obj}, t0.Add(30*time.Minute)); len(vs) != 1 {
		t.Errorf("as of 09:30: %d versions, want 1", len(vs))
	}

	acc, err := AccessHistory(t.Context(), st, "acme", obj, t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, a := range acc {
		got = append(got, fmt.Sprintf("%s %s %s %s", a.EventID, a.Action, a.UserID, a.ObjectID))
	}
	if want := []string{"x1 export 005d 00O1", "v1 view 005c " + obj}; !reflect.DeepEqual(got, want) {
		t.Errorf("access: got %q, want %q", got, want)
	}

	state, err := AsOf(t.Context(), st, RecordRef{Tenant: "acme", ObjectType: "contact", ObjectID: obj}, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h := History{Tenant: "acme", ObjectType: "contact", ObjectID: obj, AsOf: t0.Add(24 * time.Hour), Versions: vs, State: state, Access: acc}
	var csvOut, tableOut, jsonOut strings.Builder
	for f, w := range map[string]*strings.Builder{"csv": &csvOut, "table": &tableOut, "json": &jsonOut} {
		if err := h.Write(w, f); err != nil {
			t.Fatal(err)
		}
	}
	wantCSV := "section,at,event_id,action,user_id,user_name,client_ip,country,field,old,new,comment\n" +
		"version,2026-11-03T09:00:00.000Z,c1,create,005a,005a@acme.example,,,Email,,a@x.example,\n" +
		"version,2026-11-03T09:00:00.000Z,c1,create,005a,005a@acme.example,,,Phone,,1,\n" +
		"version,2026-11-03T10:00:00.000Z,u1,update,005b,005b@acme.example,198.51.100.7,DE,Email,a@x.example,b@x.example,customer asked\n" +
		"state,2026-11-03T10:00:00.000Z,u1,,005b,,,,Email,,b@x.example,\n" +
		"state,2026-11-03T09:00:00.000Z,c1,,005a,,,,Phone,,1,\n" +
		"access,2026-11-03T12:00:00.000Z,x1,export,005d,,,,,,,\n" +
		"access,2026-11-03T11:00:00.000Z,v1,view,005c,,,,,,,\n"
	if csvOut.String() != wantCSV {
		t.Errorf("csv:\n%s\nwant\n%s", csvOut.String(), wantCSV)
	}
	if !strings.Contains(tableOut.String(), `"a@x.example"  "b@x.example"  customer asked`) || !strings.Contains(jsonOut.String(), `"value": "b@x.example"`) {
		t.Errorf("table/json:\n%s\n%s", tableOut.String(), jsonOut.String())
	}
}
