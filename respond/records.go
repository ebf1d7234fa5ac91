package respond

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// ErrInvalidAction is returned for a record the responder cannot act on
// (no id, type or tenant, or an unknown status).
var ErrInvalidAction = errors.New("invalid action record")

var knownStatuses = map[string]bool{
	alert.StatusRequested: true, alert.StatusDone: true, alert.StatusFailed: true, alert.StatusSkipped: true,
	alert.StatusAwaitingApproval: true, alert.StatusExecuting: true, alert.StatusApproved: true, alert.StatusRejected: true,
}

// CheckRecord reports what makes r unusable, naming the field.
func CheckRecord(r alert.Action) error {
	var errs []error
	if r.ID == "" {
		errs = append(errs, errors.New("id is empty"))
	}
	if r.Type == "" {
		errs = append(errs, errors.New("type is empty"))
	}
	if r.Tenant == "" {
		errs = append(errs, errors.New("tenant is empty"))
	}
	if !knownStatuses[r.Status] {
		errs = append(errs, fmt.Errorf("status %q is not one of requested, executing, done, failed, skipped, awaiting_approval, approved, rejected", r.Status))
	}
	if isHuman(r.Status) && r.Actor == "" {
		errs = append(errs, fmt.Errorf("a %s record needs an actor", r.Status))
	}
	if r.Status != alert.StatusRequested && r.RecordedAt == nil {
		errs = append(errs, fmt.Errorf("a %s record needs recorded_at", r.Status))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w %s: %w", ErrInvalidAction, r.ID, errors.Join(errs...))
}

// Approve is the record of actor approving a (an action awaiting
// approval, or one that failed or was skipped and should run after all).
func Approve(a alert.Action, actor string, now time.Time) (alert.Action, error) {
	return human(a, alert.StatusApproved, actor, "", now)
}

// Reject is the record of actor rejecting a, with their reason.
func Reject(a alert.Action, actor, reason string, now time.Time) (alert.Action, error) {
	return human(a, alert.StatusRejected, actor, reason, now)
}

func human(a alert.Action, status, actor, detail string, now time.Time) (alert.Action, error) {
	if actor == "" {
		return alert.Action{}, fmt.Errorf("%s: an actor is required", status)
	}
	r := a
	r.Status, r.Actor, r.Detail, r.Error, r.Attempt = status, actor, detail, "", 0
	t := now.UTC().Truncate(time.Millisecond)
	r.RecordedAt, r.CompletedAt = &t, nil
	return r, nil
}

// Undo is the request, by actor, to reverse the freeze a: a new action of
// type unfreeze_account whose id is derived from a's, so undoing twice is
// one action.
func Undo(a alert.Action, actor string, now time.Time) (alert.Action, error) {
	if a.Type != TypeFreeze {
		return alert.Action{}, fmt.Errorf("undo: action %s is a %s, only %s can be undone", a.ID, a.Type, TypeFreeze)
	}
	if actor == "" {
		return alert.Action{}, errors.New("undo: an actor is required")
	}
	t := now.UTC().Truncate(time.Millisecond)
	return alert.Action{
		ID: UndoID(a.ID), Type: TypeUnfreeze, AlertID: a.AlertID, Tenant: a.Tenant, Target: a.Target,
		TargetName: a.TargetName, TargetType: a.TargetType, RuleID: a.RuleID, RuleVersion: a.RuleVersion,
		Severity: a.Severity, Summary: a.Summary, Mode: alert.ModeEnforce, Status: alert.StatusRequested,
		RequestedAt: t, RecordedAt: &t, Actor: actor, Undoes: a.ID,
	}, nil
}

// undoNamespace is fixed forever: changing it changes every undo id.
var undoNamespace = [16]byte{0x9e, 0x3a, 0x51, 0x0c, 0x77, 0x12, 0x4b, 0x6d, 0xa0, 0x2e, 0xc4, 0x19, 0x5b, 0x83, 0xf6, 0x21}

// UndoID is the id of the undo of action id: a name-based (version 5)
// UUID, so ClickHouse stores it like every other action id.
func UndoID(id string) string {
	h := sha1.New()
	h.Write(undoNamespace[:])
	h.Write([]byte(id))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	b := make([]byte, 36)
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b)
}

// Current is where an action stands: its latest record other than a
// re-delivered request (the request itself if nothing else happened).
func Current(history []alert.Action) alert.Action {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Status != alert.StatusRequested {
			return history[i]
		}
	}
	if len(history) == 0 {
		return alert.Action{}
	}
	return history[len(history)-1]
}
