package respond

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Recorder appends status records to the actions topic (crm.actions, keyed
// so every record of one action lands in one partition).
type Recorder interface {
	// Record appends rec and returns only once it is durable (acknowledged
	// by every in-sync replica). The executor calls a vendor only after the
	// executing record was recorded.
	Record(ctx context.Context, rec alert.Action) error
}

// Freezer blocks and unblocks accounts and tells whether one is blocked.
type Freezer interface {
	Freeze(ctx context.Context, account string) error
	Unfreeze(ctx context.Context, account string) error
	Frozen(ctx context.Context, account string) (bool, error)
}

// Notifier sends notifications.
type Notifier interface {
	Notify(ctx context.Context, n adapter.Notification) error
}

// Adapters are the vendor adapters by name.
type Adapters struct {
	Freezers  map[string]Freezer
	Notifiers map[string]Notifier
	// Identifiers says, per freezer, which action field names the account:
	// registry.IdentifierID (target, the default) or IdentifierName
	// (target_name).
	Identifiers map[string]string
}

// FromRegistry takes the adapters a registry built.
func FromRegistry(s *registry.Set) Adapters {
	a := Adapters{Freezers: map[string]Freezer{}, Notifiers: map[string]Notifier{}, Identifiers: s.Identifiers}
	for n, f := range s.Freezers {
		a.Freezers[n] = f
	}
	for n, f := range s.Notifiers {
		a.Notifiers[n] = f
	}
	return a
}

// Options are the executor's injected dependencies.
type Options struct {
	Log        zerolog.Logger
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
	Now        func() time.Time      // nil: time.Now
	Rand       func() float64        // jitter source in [0, 1); nil: math/rand/v2
}

// Executor turns action records into vendor calls and status records,
// exactly once in effect per action id. It keeps the history of every
// action it saw; a record is acted on only as PlanFor says, and never by
// two goroutines at once.
//
// The flow for one action: requested → (policy) → skipped |
// awaiting_approval | executing → done | failed. An approval, or an undo,
// starts a new executing → result. The executing record is durable before
// any vendor call, so after a crash an executing record with no result
// means "ask the vendor's state, then finish" (StepRecheck).
type Executor struct {
	cfg     Config
	policy  *Policy
	ad      Adapters
	rec     Recorder
	backoff Backoff
	now     func() time.Time
	log     zerolog.Logger
	m       *metrics

	mu           sync.Mutex
	ledger       *ledger
	inflight     map[string]bool
	lastRecorded time.Time
}

// New validates cfg, checks that every adapter it names was built, and
// returns an executor.
func New(cfg Config, ad Adapters, rec Recorder, opts Options) (*Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var missing []error
	for name, t := range cfg.Tenants {
		for _, n := range t.Freeze {
			if ad.Freezers[n] == nil {
				missing = append(missing, fmt.Errorf("respond.tenants.%s.freeze: adapter %s was not built", name, n))
			}
		}
		for _, list := range [][]string{t.Notify, t.OnCall, t.Webhooks} {
			for _, n := range list {
				if ad.Notifiers[n] == nil {
					missing = append(missing, fmt.Errorf("respond.tenants.%s: notifier %s was not built", name, n))
				}
			}
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errors.New("respond: a Recorder is required")
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	x := &Executor{
		cfg: cfg, policy: NewPolicy(cfg), ad: ad, rec: rec, now: opts.Now, log: opts.Log,
		m: m, ledger: newLedger(), inflight: map[string]bool{},
		backoff: Backoff{Retry: cfg.Retry, Rand: opts.Rand},
	}
	if x.now == nil {
		x.now = time.Now
	}
	if x.backoff.Rand == nil {
		x.backoff.Rand = rand.Float64
	}
	return x, nil
}

// Policy is the executor's policy (its breakers can be inspected or reset).
func (x *Executor) Policy() *Policy { return x.policy }

// Observe adds a record to the history without acting on it: the Kafka
// loop feeds it the partition's records up to the end offset on
// assignment, then calls Resume.
func (x *Executor) Observe(r alert.Action) error {
	if err := CheckRecord(r); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.observeLocked(r)
	return nil
}

func (x *Executor) observeLocked(r alert.Action) (*entry, int) {
	e, idx, isNew := x.ledger.add(r, x.now())
	if isNew && r.Status == alert.StatusExecuting && r.Actor == "" && isAccountAction(r.Type) {
		at := r.RequestedAt
		if r.RecordedAt != nil {
			at = *r.RecordedAt
		}
		x.policy.breakers.Note(r.Tenant, r.ID, at)
	}
	return e, idx
}

// Handle takes one record from the actions topic: it adds it to the
// history and, for a request or an approval, does what PlanFor says. It
// returns once every status record it wrote is durable; an error means
// the record must be handled again (do not commit its offset).
func (x *Executor) Handle(ctx context.Context, r alert.Action) error {
	if err := CheckRecord(r); err != nil {
		return err
	}
	x.mu.Lock()
	e, idx := x.observeLocked(r)
	if r.Status != alert.StatusRequested && r.Status != alert.StatusApproved {
		x.mu.Unlock()
		return nil
	}
	plan := PlanFor(e.records, idx)
	return x.claimAndRun(ctx, e, idx, plan)
}

// Resume acts on every action the history leaves unfinished: requests
// never decided, approvals never executed, executions never finished.
func (x *Executor) Resume(ctx context.Context) error {
	x.mu.Lock()
	steps := x.ledger.pending()
	x.mu.Unlock()
	var errs []error
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			// Stopping: what is left stays pending for the next owner.
			return errors.Join(append(errs, err)...)
		}
		x.mu.Lock()
		e := x.ledger.actions[s.id]
		if err := x.claimAndRun(ctx, e, s.idx, PlanFor(e.records, s.idx)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Forget drops finished actions untouched since before (bounded memory).
func (x *Executor) Forget(before time.Time) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.ledger.forget(before)
}

// History is a copy of what the executor knows about action id.
func (x *Executor) History(id string) []alert.Action {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.ledger.actions[id]; e != nil {
		return append([]alert.Action(nil), e.records...)
	}
	return nil
}

// claimAndRun is entered with x.mu held and releases it.
func (x *Executor) claimAndRun(ctx context.Context, e *entry, idx int, plan Plan) error {
	trig := e.records[idx]
	if plan.Step == StepNone || x.inflight[trig.ID] {
		x.mu.Unlock()
		x.m.actions.WithLabelValues(typeLabel(trig.Type), "duplicate").Inc()
		x.log.Debug().Str("action_id", trig.ID).Str("status", trig.Status).Str("reason", plan.Reason).Msg("nothing to do")
		return nil
	}
	// Read what the steps need from the history while holding the lock.
	rerun := false
	for _, h := range e.records[:idx] {
		rerun = rerun || h.Status == alert.StatusExecuting
	}
	// A recheck finishes as the interrupted execution started.
	mode, actor := trig.Mode, trig.Actor
	for _, h := range e.records[idx:] {
		if h.Status == alert.StatusExecuting {
			mode, actor = h.Mode, h.Actor
		}
	}
	x.inflight[trig.ID] = true
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.inflight, trig.ID)
		x.mu.Unlock()
	}()

	log := x.log.With().Str("action_id", trig.ID).Str("type", trig.Type).Str("tenant", trig.Tenant).Logger()
	switch plan.Step {
	case StepDecide:
		return x.decide(ctx, trig, log)
	case StepExecute:
		route := x.policy.Route(trig.Tenant, trig.Type)
		if len(route) == 0 {
			return x.finish(ctx, trig, alert.StatusSkipped, trig.Mode, fmt.Sprintf("approved by %s, but no adapter handles %s actions in tenant %s", trig.Actor, trig.Type, trig.Tenant), "", 0, "skipped")
		}
		// After a failed run some vendors may already be done: check first.
		return x.execute(ctx, trig, trig.Mode, trig.Actor, route, rerun, true, log)
	case StepRecheck:
		log.Info().Msg("finishing an execution interrupted before its result")
		return x.execute(ctx, trig, mode, actor, x.policy.Route(trig.Tenant, trig.Type), true, false, log)
	}
	return nil
}

func (x *Executor) decide(ctx context.Context, a alert.Action, log zerolog.Logger) error {
	d := x.policy.Decide(a, x.now())
	log.Info().Str("verdict", d.Verdict.String()).Str("mode", d.Mode).Msg("decided")
	switch d.Verdict {
	case Skip:
		return x.finish(ctx, a, alert.StatusSkipped, d.Mode, d.Reason, "", 0, "skipped")
	case DryRun:
		return x.finish(ctx, a, alert.StatusSkipped, d.Mode, d.Reason, "", 0, "dry_run")
	case AwaitApproval:
		rec := a
		rec.Status, rec.Mode, rec.Detail, rec.Error, rec.Attempt, rec.CompletedAt = alert.StatusAwaitingApproval, d.Mode, d.Reason, "", 0, nil
		if err := x.write(ctx, rec); err != nil {
			return err
		}
		x.m.actions.WithLabelValues(typeLabel(a.Type), "awaiting_approval").Inc()
		switch {
		case d.Tripped:
			x.m.breakerTrips.WithLabelValues(a.Tenant).Inc()
			x.page(ctx, a.Tenant, reasonBreaker, breakerPage(a, x.cfg.breakerFor(a.Tenant), x.now()))
		case !d.Breaker:
			// While the breaker is open its one page stands for every
			// waiting action; otherwise each approval gets asked for.
			x.page(ctx, a.Tenant, reasonApproval, approvalPage(a, d.Reason, x.now()))
		}
		return nil
	}
	// An undo carries the human who asked for it onto its records.
	return x.execute(ctx, a, d.Mode, a.Actor, d.Adapters, false, true, log)
}

// execute runs the action on every adapter of route. intent writes the
// executing record first (a recheck already has one); check asks each
// vendor's state before acting, so nothing is sent twice.
func (x *Executor) execute(ctx context.Context, a alert.Action, mode, actor string, route []string, check, intent bool, log zerolog.Logger) error {
	if intent {
		rec := a
		rec.Status, rec.Mode, rec.Actor, rec.Error, rec.Attempt, rec.CompletedAt = alert.StatusExecuting, mode, actor, "", 0, nil
		rec.Detail = "executing via " + strings.Join(route, ", ")
		if err := x.write(ctx, rec); err != nil {
			return err
		}
	}
	var (
		outcomes []string
		failures []string
		attempts int
		failed   error
	)
	for _, name := range route {
		outcome, n, err := x.perform(ctx, a, name, check)
		attempts = max(attempts, n)
		if err != nil {
			failures = append(failures, name+": "+err.Error())
			outcomes = append(outcomes, name+": failed")
			failed = err
			log.Warn().Str("adapter", name).Str("kind", adapter.KindOf(err).String()).Int("attempts", n).Msg("vendor call failed")
			continue
		}
		outcomes = append(outcomes, name+": "+outcome)
	}
	if ctx.Err() != nil && failed != nil {
		// Shutting down mid-call: leave the executing record without a
		// result, so the next owner rechecks and finishes.
		return fmt.Errorf("action %s interrupted: %w", a.ID, ctx.Err())
	}
	status := alert.StatusDone
	if len(failures) > 0 {
		status = alert.StatusFailed
	}
	rec := a
	rec.Mode, rec.Actor = mode, actor
	if err := x.finish(ctx, rec, status, mode, strings.Join(outcomes, "; "), strings.Join(failures, "; "), attempts, status); err != nil {
		return err
	}
	if status == alert.StatusFailed {
		x.page(ctx, a.Tenant, reasonFailed, failedPage(rec, strings.Join(failures, "; "), x.now()))
	}
	return nil
}

// perform runs the action on one adapter with retries.
func (x *Executor) perform(ctx context.Context, a alert.Action, name string, check bool) (outcome string, attempts int, err error) {
	ctx = adapter.WithActionID(ctx, a.ID)
	switch a.Type {
	case TypeFreeze, TypeUnfreeze:
		f := x.ad.Freezers[name]
		if f == nil {
			return "", 0, fmt.Errorf("adapter %s does not freeze accounts", name)
		}
		account, field := a.Target, "target"
		if x.ad.Identifiers[name] == registry.IdentifierName {
			account, field = a.TargetName, "target_name"
		}
		if account == "" {
			return "", 0, &adapter.Error{Vendor: name, Op: "state", Kind: adapter.KindInvalid,
				Message: "the action has no " + field + ", which this adapter needs"}
		}
		want := a.Type == TypeFreeze
		verb := "frozen"
		if !want {
			verb = "unfrozen"
		}
		if check {
			var frozen bool
			n, err := x.call(ctx, name, "state", func(ctx context.Context) error {
				var err error
				frozen, err = f.Frozen(ctx, account)
				return err
			})
			attempts += n
			if err != nil {
				return "", attempts, err
			}
			if frozen == want {
				return "already " + verb, attempts, nil
			}
		}
		op, fn := "freeze", f.Freeze
		if !want {
			op, fn = "unfreeze", f.Unfreeze
		}
		n, err := x.call(ctx, name, op, func(ctx context.Context) error { return fn(ctx, account) })
		return verb, attempts + n, err
	case TypeNotify, TypeWebhook:
		nt := x.ad.Notifiers[name]
		if nt == nil {
			return "", 0, fmt.Errorf("adapter %s does not send notifications", name)
		}
		note := actionNote(a, x.now())
		n, err := x.call(ctx, name, "notify", func(ctx context.Context) error { return nt.Notify(ctx, note) })
		return "sent", n, err
	}
	return "", 0, fmt.Errorf("no operation for action type %s", a.Type)
}

// call is one vendor operation with retries and metrics.
func (x *Executor) call(ctx context.Context, name, op string, fn attemptFunc) (int, error) {
	return x.backoff.retry(ctx, x.now, fn, func(n int, took time.Duration, err error) {
		x.m.vendorCall.WithLabelValues(name, op, outcomeLabel(err)).Observe(took.Seconds())
		if n > 1 {
			x.m.retries.WithLabelValues(name, op).Inc()
		}
	})
}

// finish writes a result record (done, failed or skipped) and counts it
// under result.
func (x *Executor) finish(ctx context.Context, a alert.Action, status, mode, detail, errText string, attempts int, result string) error {
	rec := a
	rec.Status, rec.Mode, rec.Detail, rec.Error, rec.Attempt = status, mode, detail, errText, attempts
	if err := x.write(ctx, rec); err != nil {
		return err
	}
	x.m.actions.WithLabelValues(typeLabel(a.Type), result).Inc()
	return nil
}

// write stamps rec with a recorded_at strictly after the previous one (two
// records of one action never share a key), records it, and adds it to the
// history once it is durable.
func (x *Executor) write(ctx context.Context, rec alert.Action) error {
	x.mu.Lock()
	t := x.now().UTC().Truncate(time.Millisecond)
	if !t.After(x.lastRecorded) {
		t = x.lastRecorded.Add(time.Millisecond)
	}
	x.lastRecorded = t
	x.mu.Unlock()
	rec.RecordedAt = &t
	rec.CompletedAt = nil
	if isResult(rec.Status) {
		rec.CompletedAt = &t
	}
	if err := x.rec.Record(ctx, rec); err != nil {
		return fmt.Errorf("recording %s for action %s: %w", rec.Status, rec.ID, err)
	}
	x.mu.Lock()
	x.observeLocked(rec)
	x.mu.Unlock()
	return nil
}
