package event

import (
	"testing"
	"time"
)

func TestEqual(t *testing.T) {
	a := goEvent()
	if b := goEvent(); !a.Equal(&b) {
		t.Fatal("an event differs from its copy")
	}
	b := goEvent()
	b.Changes, b.Related, b.Labels = nil, nil, nil
	c := goEvent()
	c.Changes, c.Related, c.Labels = []Change{}, []Related{}, map[string]string{}
	if !b.Equal(&c) {
		t.Fatal("nil and empty slices and maps differ")
	}
	// Every member counts, and so does the offset of the same instant.
	mutations := map[string]func(*Event){
		"id":          func(e *Event) { e.ID += "x" },
		"instant":     func(e *Event) { e.Timestamp = e.Timestamp.Add(time.Millisecond) },
		"offset":      func(e *Event) { e.Timestamp = e.Timestamp.UTC() },
		"tenant":      func(e *Event) { e.Tenant += "x" },
		"source":      func(e *Event) { e.Source.Collector = "x" },
		"event":       func(e *Event) { e.Event.Reason = "x" },
		"user":        func(e *Event) { e.User.Role = "x" },
		"client":      func(e *Event) { e.Client.DeviceID = "x" },
		"geo":         func(e *Event) { e.Client.Geo.Lat++ },
		"has coords":  func(e *Event) { e.Client.Geo.HasCoords = false },
		"object":      func(e *Event) { e.Object.OwnerID = "x" },
		"changes":     func(e *Event) { e.Changes[0].Old = "x" },
		"records":     func(e *Event) { e.Records++ },
		"has records": func(e *Event) { e.HasRecords = false },
		"comment":     func(e *Event) { e.Comment = "x" },
		"related":     func(e *Event) { e.Related = append(e.Related, Related{Type: "a", ID: "b"}) },
		"target_user": func(e *Event) { e.TargetUser.Name = "x" },
		"permission":  func(e *Event) { e.Permission.Scope = "x" },
		"labels":      func(e *Event) { e.Labels["sf_event_type"] = "x" },
	}
	for name, mutate := range mutations {
		b := goEvent()
		mutate(&b)
		if a.Equal(&b) || b.Equal(&a) {
			t.Errorf("changing %s leaves the events equal", name)
		}
	}
}
