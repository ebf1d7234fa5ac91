package respond_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

func TestUndoID(t *testing.T) {
	uuidV5 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := respond.UndoID("act-1"), respond.UndoID("act-1")
	if a != b || !uuidV5.MatchString(a) || a == respond.UndoID("act-2") {
		t.Fatalf("UndoID: %s %s", a, b)
	}
}

func TestHumanRecords(t *testing.T) {
	now := time.Date(2026, 11, 3, 8, 0, 0, 123456789, time.UTC)
	a := request(1)
	if _, err := respond.Approve(a, "", now); err == nil {
		t.Fatal("approval without an actor")
	}
	ok, err := respond.Approve(a, "alice", now)
	if err != nil || ok.Status != alert.StatusApproved || ok.Actor != "alice" || ok.RecordedAt.Nanosecond() != 123000000 || respond.CheckRecord(ok) != nil {
		t.Fatalf("Approve: %+v %v", ok, err)
	}
	no, _ := respond.Reject(a, "bob", "travelling", now)
	if no.Status != alert.StatusRejected || no.Detail != "travelling" {
		t.Fatalf("Reject: %+v", no)
	}
	if _, err := respond.Undo(request(1, func(a *alert.Action) { a.Type = respond.TypeNotify }), "carol", now); err == nil {
		t.Fatal("undo of a notification")
	}
	hist := []alert.Action{a, ok}
	if respond.Current(hist).Status != alert.StatusApproved || respond.Current(hist[:1]).Status != alert.StatusRequested {
		t.Fatal("Current")
	}
}

func TestCheckRecord(t *testing.T) {
	noTime := request(1, func(a *alert.Action) { a.Status = alert.StatusDone })
	for _, a := range []alert.Action{{}, noTime, request(1, func(a *alert.Action) { a.Tenant = "" })} {
		if err := respond.CheckRecord(a); !errors.Is(err, respond.ErrInvalidAction) {
			t.Fatalf("%+v: %v", a, err)
		}
	}
	if err := respond.CheckRecord(request(1)); err != nil {
		t.Fatal(err)
	}
}
