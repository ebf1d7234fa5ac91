package compliance

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// RecordStore reads and writes record fields in a CRM (a vendor adapter).
// A nil value is the CRM's null; an empty string in the trail is written
// as null.
type RecordStore interface {
	Fields(ctx context.Context, objectType, id string, fields []string) (map[string]*string, error)
	Update(ctx context.Context, objectType, id string, values map[string]*string) error
}

// FieldChecker is implemented by a RecordStore whose fields are typed
// (Dataverse): CheckWrite refuses a field it cannot write (a lookup, a
// read-only column, a value not of the column's type), and otherwise
// returns value in the form Fields reports it (numbers in one canonical
// form), so a restored value compares equal to what the CRM holds. Apply
// marks a refused write failed, with the reason, and still applies the
// record's other writes.
type FieldChecker interface {
	CheckWrite(ctx context.Context, objectType, field, value string) (string, error)
}

// Recorder appends an action record (the actions topic in production;
// respond/stream.Recorder is one).
type Recorder interface {
	Record(ctx context.Context, a alert.Action) error
}

// ActionType is the type of the action that records a rollback write.
const ActionType = "revert_field"

// ApplyOptions says how to apply a plan.
type ApplyOptions struct {
	Enforce bool             // false: dry run; read the CRM and record what would be written
	Actor   string           // who asked (recorded on every action)
	Now     func() time.Time // the clock for recorded_at
	// Retries is how often a CRM read or update refused as retryable (a
	// rate limit such as Dataverse's 429, a 5xx, a timeout) is tried again,
	// after the wait the CRM asked for (Retry-After) or else 1 s, 2 s, 4 s …;
	// 0 never retries. A wait longer than MaxWait is not waited out: the
	// write fails with the vendor's error and a later run finishes it.
	Retries int
	MaxWait time.Duration // 0: one minute
	// Sleep waits d or until ctx ends; nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// retry runs call, again after retryable failures as the options allow.
// Retrying an update is safe: a repeated write sets the same values, and a
// conditional one (Dataverse's If-Match) fails rather than overwrite.
func (o ApplyOptions) retry(ctx context.Context, call func() error) error {
	maxWait := o.MaxWait
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	sleep := o.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil || attempt >= o.Retries || !adapter.IsRetryable(err) {
			return err
		}
		d := adapter.RetryAfter(err)
		if d <= 0 {
			d, backoff = backoff, 2*backoff
		}
		if d > maxWait || sleep(ctx, d) != nil {
			return err
		}
	}
}

// Outcome is what applying did to one write.
type Outcome struct {
	ActionID string `json:"action_id"`
	Status   string `json:"status"` // done, failed, skipped
	Detail   string `json:"detail"`
}

// Apply carries out the plan's writes through crm, record by record (one
// update per record), recording every write as an action: executing
// before the vendor call, then done or failed; conflicts, no-ops, values
// already restored and fields changed in the CRM since the trail's last
// change are recorded as skipped and never written. Dry runs read the CRM,
// write nothing and record skipped actions in mode dry_run. The action ids
// come from the plan, and a field already holding its restored value is
// not written again, so applying twice is harmless.
func Apply(ctx context.Context, p Plan, crm RecordStore, rec Recorder, opt ApplyOptions) ([]Outcome, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	mode := alert.ModeDryRun
	if opt.Enforce {
		mode = alert.ModeEnforce
	}
	base := func(w Write, status, detail string) alert.Action {
		now := opt.Now().UTC()
		a := alert.Action{ID: w.ActionID, Type: ActionType, AlertID: p.ID, Tenant: p.Scope.Tenant,
			Target: w.ObjectType + "/" + w.ObjectID, Mode: mode, Status: status, RequestedAt: now,
			RuleID: "compliance.revert", Actor: opt.Actor, Detail: detail, RecordedAt: &now}
		if status != alert.StatusExecuting {
			a.CompletedAt = &now
		}
		return a
	}
	var out []Outcome
	finish := func(w Write, status, detail string) error {
		out = append(out, Outcome{ActionID: w.ActionID, Status: status, Detail: detail})
		if err := rec.Record(ctx, base(w, status, detail)); err != nil {
			return fmt.Errorf("recording rollback write %s: %w", w.ActionID, err)
		}
		return nil
	}

	type recordKey struct{ objectType, objectID string }
	byRecord := map[recordKey][]Write{}
	var order []recordKey
	for _, w := range p.Writes {
		switch {
		case w.Conflict:
			if err := finish(w, alert.StatusSkipped, fmt.Sprintf("conflict: %s changed %s again at %s (event %s); not overwritten",
				w.ConflictBy, w.Field, w.ConflictAt.UTC().Format(time.RFC3339), w.ConflictID)); err != nil {
				return out, err
			}
			continue
		case w.Noop:
			if err := finish(w, alert.StatusSkipped, "field "+w.Field+" already holds the value to restore"); err != nil {
				return out, err
			}
			continue
		}
		k := recordKey{w.ObjectType, w.ObjectID}
		if _, ok := byRecord[k]; !ok {
			order = append(order, k)
		}
		byRecord[k] = append(byRecord[k], w)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].objectType != order[j].objectType {
			return order[i].objectType < order[j].objectType
		}
		return order[i].objectID < order[j].objectID
	})

	var errs []error
	checker, _ := crm.(FieldChecker)
	for _, k := range order {
		ws := byRecord[k]
		if checker != nil {
			var kept []Write
			for _, w := range ws {
				v, err := checker.CheckWrite(ctx, k.objectType, w.Field, w.Value)
				if err != nil {
					if rerr := finish(w, alert.StatusFailed, "cannot write: "+err.Error()); rerr != nil {
						return out, rerr
					}
					errs = append(errs, fmt.Errorf("%s %s field %s: %w", k.objectType, k.objectID, w.Field, err))
					continue
				}
				// What the trail says the field holds now, in the same
				// form; a value the column could not hold stays as it is
				// and so never matches.
				if e, err := checker.CheckWrite(ctx, k.objectType, w.Field, w.Expected); err == nil {
					w.Expected = e
				}
				w.Value = v
				kept = append(kept, w)
			}
			if ws = kept; len(ws) == 0 {
				continue
			}
		}
		names := make([]string, len(ws))
		for i, w := range ws {
			names[i] = w.Field
		}
		var current map[string]*string
		err := opt.retry(ctx, func() (err error) {
			current, err = crm.Fields(ctx, k.objectType, k.objectID, names)
			return err
		})
		if err != nil {
			for _, w := range ws {
				if rerr := finish(w, alert.StatusFailed, "reading the record: "+err.Error()); rerr != nil {
					return out, rerr
				}
			}
			errs = append(errs, fmt.Errorf("reading %s %s: %w", k.objectType, k.objectID, err))
			continue
		}
		values := map[string]*string{}
		var pending []Write
		for _, w := range ws {
			cur := deref(current[w.Field])
			switch {
			case cur == w.Value:
				if err := finish(w, alert.StatusSkipped, "field "+w.Field+" already holds the value to restore"); err != nil {
					return out, err
				}
			case cur != w.Expected:
				if err := finish(w, alert.StatusSkipped, "conflict: field "+w.Field+" was changed in the CRM after the last change the trail holds; not overwritten"); err != nil {
					return out, err
				}
			case !opt.Enforce:
				if err := finish(w, alert.StatusSkipped, "dry run: would set field "+w.Field+" back to its value before "+w.UndoneAt.UTC().Format(time.RFC3339)); err != nil {
					return out, err
				}
			default:
				pending = append(pending, w)
				if w.Value == "" {
					values[w.Field] = nil
				} else {
					v := w.Value
					values[w.Field] = &v
				}
			}
		}
		if len(pending) == 0 {
			continue
		}
		// The intent first: an executing record with no result after it
		// means "read the CRM, then finish", as for the responder's actions.
		for _, w := range pending {
			if err := rec.Record(ctx, base(w, alert.StatusExecuting, "setting field "+w.Field)); err != nil {
				return out, fmt.Errorf("recording rollback write %s: %w", w.ActionID, err)
			}
		}
		status, detail := alert.StatusDone, ""
		if err := opt.retry(ctx, func() error { return crm.Update(ctx, k.objectType, k.objectID, values) }); err != nil {
			status, detail = alert.StatusFailed, err.Error()
			errs = append(errs, fmt.Errorf("updating %s %s: %w", k.objectType, k.objectID, err))
		}
		for _, w := range pending {
			d := detail
			if d == "" {
				d = "set field " + w.Field + " back to its value before " + w.UndoneAt.UTC().Format(time.RFC3339)
			}
			if err := finish(w, status, d); err != nil {
				return out, err
			}
		}
	}
	return out, errors.Join(errs...)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
