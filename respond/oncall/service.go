package oncall

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

var (
	// ErrNotFound: no action with that id within the look-back.
	ErrNotFound = errors.New("no such action")
	// ErrConflict: the action is not in a state the operation applies to
	// (approving one already approved or done, undoing one never frozen).
	ErrConflict = errors.New("not possible in the action's current state")
	// ErrOwnAccount: the action is on one of the deciding person's own
	// accounts; someone else must decide.
	ErrOwnAccount = errors.New("not yours to decide")
)

// Filter selects actions for List. Empty fields match everything.
type Filter struct {
	Tenant string
	// Status is the current status (awaiting_approval, failed, …).
	Status string
	// Type is the action type (freeze_account, notify, …).
	Type string
	// Since limits the look-back: actions with a record at or after it.
	// Zero: the service's look-back.
	Since time.Time
}

// Service carries out on-call operations. Decisions made through one
// Service (and the views For returns) are serialised, so two approvals of
// one action in one process give one approved record and one ErrConflict;
// across processes the responder's history rules make a second approval
// harmless.
type Service struct {
	src      Source
	rec      respond.Recorder
	lookBack time.Duration
	now      func() time.Time
	tenants  map[string]bool // the view's tenants; nil: every tenant
	own      []string        // the deciding person's own accounts (ids, logins)

	mu *sync.Mutex
}

// For returns a view of the service for one person: limited to tenants
// (nil or empty: every tenant) and refusing decisions on their own
// accounts (ids or login names). Actions of other tenants are not listed,
// and to Show, Approve, Reject and Undo they do not exist (ErrNotFound, as
// an unknown id, so the view tells nothing of other tenants). Approve,
// Reject and Undo of an action on one of accounts fail with ErrOwnAccount.
func (s *Service) For(tenants, accounts []string) *Service {
	if len(tenants) == 0 && len(accounts) == 0 {
		return s
	}
	v := *s
	if len(tenants) > 0 {
		v.tenants = make(map[string]bool, len(tenants))
		for _, t := range tenants {
			v.tenants[t] = true
		}
	}
	v.own = accounts
	return &v
}

// ownAccount says whether the action is on one of the view's own
// accounts: its target id, or its login name (case-insensitive).
func (s *Service) ownAccount(a alert.Action) bool {
	for _, acc := range s.own {
		if a.Target == acc || a.TargetName != "" && strings.EqualFold(a.TargetName, acc) {
			return true
		}
	}
	return false
}

// sees says whether the view covers tenant.
func (s *Service) sees(tenant string) bool {
	return s.tenants == nil || s.tenants[tenant]
}

// NewService returns a service reading history from src (look-back: how
// far back an id is searched, the responder's history horizon) and
// writing records with rec. now may be nil (time.Now).
func NewService(src Source, rec respond.Recorder, lookBack time.Duration, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{src: src, rec: rec, lookBack: lookBack, now: now, mu: new(sync.Mutex)}
}

// List returns the actions that match f, most recently updated first.
func (s *Service) List(ctx context.Context, f Filter) ([]Action, error) {
	since := f.Since
	if since.IsZero() {
		since = s.now().Add(-s.lookBack)
	}
	all, err := s.src.Load(ctx, since)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		c := a.Current
		// Sources read by log time; the record's own time decides.
		if a.Updated().Before(since) {
			continue
		}
		if s.sees(c.Tenant) && (f.Tenant == "" || c.Tenant == f.Tenant) && (f.Status == "" || c.Status == f.Status) && (f.Type == "" || c.Type == f.Type) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Show returns action id with its history.
func (s *Service) Show(ctx context.Context, id string) (Action, error) {
	acts, err := s.load(ctx, id)
	if err != nil {
		return Action{}, err
	}
	return acts[id], nil
}

// load reads the look-back and returns the actions by id; ErrNotFound if
// id is not among them.
func (s *Service) load(ctx context.Context, id string) (map[string]Action, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: an action id is required", ErrNotFound)
	}
	all, err := s.src.Load(ctx, s.now().Add(-s.lookBack))
	if err != nil {
		return nil, err
	}
	by := make(map[string]Action, len(all))
	for _, a := range all {
		if s.sees(a.Current.Tenant) {
			by[a.ID] = a
		}
	}
	if _, ok := by[id]; !ok {
		return nil, fmt.Errorf("%w %s in the last %s", ErrNotFound, id, s.lookBack)
	}
	return by, nil
}

// Approve records actor's approval of action id: one waiting for
// approval, or one that failed or was skipped (a retry once the vendor is
// back; a person overriding a dry run or a protection). The responder then
// executes it, without asking its policy again.
func (s *Service) Approve(ctx context.Context, id, actor string) (alert.Action, error) {
	return s.decide(ctx, id, func(a Action) (alert.Action, error) {
		c := a.Current
		switch c.Status {
		case alert.StatusAwaitingApproval, alert.StatusFailed, alert.StatusSkipped, alert.StatusRejected:
		case alert.StatusApproved, alert.StatusExecuting:
			return alert.Action{}, fmt.Errorf("%w: action %s is already approved%s and %s", ErrConflict, id, by(approver(a)), c.Status)
		case alert.StatusRequested:
			return alert.Action{}, fmt.Errorf("%w: action %s is not decided by the responder yet (is it running?)", ErrConflict, id)
		default:
			return alert.Action{}, fmt.Errorf("%w: action %s is already %s", ErrConflict, id, c.Status)
		}
		return respond.Approve(c, actor, s.now())
	})
}

// Reject records actor's rejection of action id, which must be waiting
// for approval; it never runs unless someone approves it later.
func (s *Service) Reject(ctx context.Context, id, actor, reason string) (alert.Action, error) {
	return s.decide(ctx, id, func(a Action) (alert.Action, error) {
		c := a.Current
		if c.Status != alert.StatusAwaitingApproval {
			return alert.Action{}, fmt.Errorf("%w: action %s is %s%s, only an action awaiting approval can be rejected", ErrConflict, id, c.Status, by(c.Actor))
		}
		return respond.Reject(c, actor, reason, s.now())
	})
}

// Undo requests, on behalf of actor, the reversal of freeze id: a new
// unfreeze_account action (id respond.UndoID(id)) carrying actor, run on
// the adapters that froze. A freeze that failed may have frozen the
// account in some systems, so it can be undone too.
func (s *Service) Undo(ctx context.Context, id, actor string) (alert.Action, error) {
	var undo alert.Action
	_, err := s.decide(ctx, id, func(a Action) (alert.Action, error) {
		c := a.Current
		if c.Type != respond.TypeFreeze {
			return alert.Action{}, fmt.Errorf("%w: action %s is a %s; only %s can be undone", ErrConflict, id, c.Type, respond.TypeFreeze)
		}
		if c.Status != alert.StatusDone && c.Status != alert.StatusFailed {
			return alert.Action{}, fmt.Errorf("%w: action %s is %s, so nothing was frozen: reject it instead", ErrConflict, id, c.Status)
		}
		var err error
		undo, err = respond.Undo(c, actor, s.now())
		return undo, err
	}, respond.UndoID(id))
	return undo, err
}

// decide loads the history, checks the existing undo (if undoID is given),
// builds the record with mk and writes it, under the service's lock.
func (s *Service) decide(ctx context.Context, id string, mk func(Action) (alert.Action, error), undoID ...string) (alert.Action, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	by, err := s.load(ctx, id)
	if err != nil {
		return alert.Action{}, err
	}
	for _, u := range undoID {
		if prev, ok := by[u]; ok {
			return alert.Action{}, fmt.Errorf("%w: action %s was already undone by %s (action %s, %s)", ErrConflict, id, prev.History[0].Actor, u, prev.Current.Status)
		}
	}
	if s.ownAccount(by[id].Current) {
		return alert.Action{}, fmt.Errorf("%w: action %s is on your own account %s; another approver must decide", ErrOwnAccount, id, by[id].Current.Target)
	}
	rec, err := mk(by[id])
	if err != nil {
		return alert.Action{}, err
	}
	if err := s.rec.Record(ctx, rec); err != nil {
		return alert.Action{}, err
	}
	return rec, nil
}

// approver is who approved the action last, if anyone.
func approver(a Action) string {
	for i := len(a.History) - 1; i >= 0; i-- {
		if a.History[i].Status == alert.StatusApproved {
			return a.History[i].Actor
		}
	}
	return ""
}

func by(actor string) string {
	if actor == "" {
		return ""
	}
	return " by " + actor
}

// ValidActor checks an actor name from a flag, $USER or a token file's
// approver name: it goes onto records and into logs, so it is one short
// printable word-ish string.
func ValidActor(actor string) error {
	switch {
	case actor == "":
		return errors.New("an actor is required (--actor, or $USER)")
	case len(actor) > 128:
		return fmt.Errorf("actor %.20q… is longer than 128 bytes", actor)
	case strings.ContainsFunc(actor, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("actor %q contains control characters", actor)
	}
	return nil
}
