package respond

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

var fuzzStatuses = []string{alert.StatusRequested, alert.StatusAwaitingApproval, alert.StatusApproved, alert.StatusRejected,
	alert.StatusExecuting, alert.StatusDone, alert.StatusFailed, alert.StatusSkipped}

// FuzzPlanFor checks PlanFor's invariants on arbitrary histories: only a
// request with nothing after it is decided, only an approval is executed,
// a recheck always has an unfinished executing record, and nothing that
// is already done runs again.
func FuzzPlanFor(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{0, 4})
	f.Add([]byte{0, 1, 2, 4, 5})
	f.Add([]byte{0, 4, 6, 2})
	f.Fuzz(func(t *testing.T, seq []byte) {
		if len(seq) > 32 {
			seq = seq[:32]
		}
		h := make([]alert.Action, len(seq))
		for i, b := range seq {
			h[i] = rec(fuzzStatuses[int(b)%len(fuzzStatuses)], time.Duration(i)*time.Second, "someone")
		}
		for i := range h {
			p := PlanFor(h, i)
			switch p.Step {
			case StepDecide:
				for _, r := range h {
					if r.Status != alert.StatusRequested {
						t.Fatalf("decided %d although the history has %s: %v", i, r.Status, seq)
					}
				}
			case StepExecute:
				if h[i].Status != alert.StatusApproved {
					t.Fatalf("executed a %s record", h[i].Status)
				}
				for _, r := range h[:i] {
					if r.Status == alert.StatusDone {
						t.Fatalf("executed an approval of a done action: %v", seq)
					}
				}
			case StepRecheck:
				last := -1
				for j, r := range h {
					if r.Status == alert.StatusExecuting {
						last = j
					}
				}
				if last < 0 {
					t.Fatalf("recheck without an executing record: %v", seq)
				}
				for _, r := range h[last+1:] {
					if isResult(r.Status) && h[i].Status == alert.StatusRequested {
						t.Fatalf("recheck of a finished execution: %v", seq)
					}
				}
			}
		}
	})
}
