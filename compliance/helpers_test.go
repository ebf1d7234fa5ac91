package compliance

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)

func openStore(tb testing.TB) *chstore.Store {
	tb.Helper()
	st := history.Migrated(tb)
	return st
}

// update is a successful update of tenant acme's record typ/id by user.
func update(id string, at time.Time, user, typ, obj string, changes ...event.Change) *event.Event {
	return &event.Event{
		ID: id, Timestamp: at, Tenant: "acme",
		Source:  event.Source{System: "salesforce"},
		Event:   event.Activity{Category: "data_change", Action: "update", Outcome: "success"},
		User:    event.User{ID: user, Name: user + "@acme.example"},
		Object:  event.Object{Type: typ, ID: obj},
		Changes: changes,
	}
}

func chg(field, old, new string) event.Change { return event.Change{Field: field, Old: old, New: new} }

func recordID(i int) string { return fmt.Sprintf("006%012d", i) }
