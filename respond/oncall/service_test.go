package oncall_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

func TestListAndShow(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	for _, c := range []struct {
		name string
		f    oncall.Filter
		want string
	}{
		{"everything, newest first", oncall.Filter{}, "act-new,note-beta,act-fail,act-done,act-wait"},
		{"one tenant", oncall.Filter{Tenant: "beta"}, "note-beta"},
		{"awaiting approval", oncall.Filter{Status: alert.StatusAwaitingApproval}, "act-wait"},
		{"failed freezes", oncall.Filter{Status: alert.StatusFailed, Type: respond.TypeFreeze}, "act-fail"},
		{"since excludes older", oncall.Filter{Since: w.now.Add(-time.Hour + 150*time.Second)}, "act-new,note-beta"},
		{"nothing matches", oncall.Filter{Tenant: "acme", Status: alert.StatusRejected}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := w.svc.List(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got) != c.want {
				t.Fatalf("List(%+v) = %s, want %s", c.f, ids(got), c.want)
			}
		})
	}
	a, err := w.svc.Show(ctx, "act-fail")
	if err != nil {
		t.Fatal(err)
	}
	if statuses(a.History) != "requested,executing,failed" || a.Current.Status != alert.StatusFailed || !strings.Contains(a.Current.Error, "SERVER_UNAVAILABLE") {
		t.Fatalf("Show: %s, current %+v", statuses(a.History), a.Current)
	}
	if _, err := w.svc.Show(ctx, "nope"); !errors.Is(err, oncall.ErrNotFound) {
		t.Fatalf("Show(unknown) = %v, want ErrNotFound", err)
	}
}

func TestDecisionsFollowTheActionsState(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	type op func(id string) (alert.Action, error)
	approve := func(id string) (alert.Action, error) { return w.svc.Approve(ctx, id, "alice") }
	reject := func(id string) (alert.Action, error) { return w.svc.Reject(ctx, id, "bob", "pen test") }
	undo := func(id string) (alert.Action, error) { return w.svc.Undo(ctx, id, "carol") }
	for _, c := range []struct {
		name string
		op   op
		id   string
		want error // nil: allowed
	}{
		{"approve a done action", approve, "act-done", oncall.ErrConflict},
		{"approve an undecided request", approve, "act-new", oncall.ErrConflict},
		{"approve an unknown action", approve, "act-404", oncall.ErrNotFound},
		{"reject a failed action", reject, "act-fail", oncall.ErrConflict},
		{"undo a freeze awaiting approval", undo, "act-wait", oncall.ErrConflict},
		{"undo a notification", undo, "note-beta", oncall.ErrConflict},
		{"approve a failed action (retry)", approve, "act-fail", nil},
		{"reject an action awaiting approval", reject, "act-wait", nil},
		{"approve a rejected action after all", approve, "act-wait", nil},
		{"approve it twice", approve, "act-wait", oncall.ErrConflict},
		{"undo a done freeze", undo, "act-done", nil},
		{"undo it twice", undo, "act-done", oncall.ErrConflict},
	} {
		rec, err := c.op(c.id)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Fatalf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if err == nil && rec.RecordedAt == nil {
			t.Fatalf("%s: record without recorded_at: %+v", c.name, rec)
		}
	}
	if got := statuses(w.recordsOf(t, "act-wait")); got != "requested,awaiting_approval,rejected,approved" {
		t.Fatalf("act-wait records: %s", got)
	}
	rej := w.recordsOf(t, "act-wait")[2]
	if rej.Actor != "bob" || rej.Detail != "pen test" {
		t.Fatalf("rejection %+v", rej)
	}
	u := w.recordsOf(t, respond.UndoID("act-done"))
	if len(u) != 1 || u[0].Type != respond.TypeUnfreeze || u[0].Actor != "carol" || u[0].Undoes != "act-done" || u[0].Status != alert.StatusRequested {
		t.Fatalf("undo records %+v", u)
	}
	if _, err := w.svc.Undo(ctx, "act-done", "dave"); err == nil || !strings.Contains(err.Error(), "already undone by carol") {
		t.Fatalf("second undo: %v", err)
	}
}

// Two people approve at once: one approval is recorded, the other is told
// who was first.
func TestDoubleApprovalOneRecord(t *testing.T) {
	w := newWorld(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, who := range []string{"alice", "bob"} {
		wg.Go(func() {
			_, err := w.svc.Approve(t.Context(), "act-wait", who)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, oncall.ErrConflict) && strings.Contains(err.Error(), "already approved by"):
			conflict++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("%d approvals succeeded, %d conflicted", ok, conflict)
	}
	if got := statuses(w.recordsOf(t, "act-wait")); got != "requested,awaiting_approval,approved" {
		t.Fatalf("records %s", got)
	}
}

func TestGroupDropsRedeliveredRecords(t *testing.T) {
	at := time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC)
	req := alert.Action{ID: "a", Type: respond.TypeFreeze, Tenant: "acme", Status: alert.StatusRequested, RequestedAt: at}
	done := req
	done.Status, done.RecordedAt = alert.StatusDone, &at
	acts := oncall.Group([]alert.Action{req, req, done, req, done})
	if len(acts) != 1 || statuses(acts[0].History) != "requested,done" || acts[0].Current.Status != alert.StatusDone {
		t.Fatalf("%+v", acts)
	}
}

func TestValidActor(t *testing.T) {
	for _, bad := range []string{"", "a\nb", strings.Repeat("x", 129)} {
		if oncall.ValidActor(bad) == nil {
			t.Errorf("ValidActor(%q) accepted", bad)
		}
	}
	if err := oncall.ValidActor("alice@acme.example"); err != nil {
		t.Error(err)
	}
}
