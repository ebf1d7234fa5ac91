package identity_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/identity"
	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// writeDirectory replaces the directory file as an operator should: a new
// file renamed over the old, so a reader never sees half of it.
func writeDirectory(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotSwapWhileEventsFlow publishes a stream of events of one
// Salesforce account through the real ingest publishing path into the
// embedded Kafka while the directory file is replaced twice: once by a
// snapshot that gives the account to another person, once by an invalid
// file. Every event arrives, each exactly once; events published before
// the swap carry the first person and those after it the second (with the
// Kafka key following), the change happens once in publishing order, and
// the invalid file changes nothing.
func TestSnapshotSwapWhileEventsFlow(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(2))
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pub, err := ingest.NewPublisher(p, env.Config.Topics, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "people.csv")
	writeDirectory(t, dir, "person_id,accounts\np-old,salesforce:005X\np-other,hubspot:1\n")
	cfg := identity.DefaultConfig()
	cfg.Directory = dir
	r, err := identity.NewResolver(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := identity.NewWatcher(cfg, r, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub.SetResolver(r)

	const batches, perBatch = 60, 50
	start := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	var swapped atomic.Bool
	firstAfter := -1 // the first batch created after the swap returned
	lastBefore := -1 // the last batch published before the swap began
	swapAt, invalidAt := batches/3, 2*batches/3
	swapping := make(chan struct{})
	swapDone := make(chan struct{})
	go func() {
		defer close(swapDone)
		<-swapping
		writeDirectory(t, dir, "person_id,accounts\np-new-owner,salesforce:005X\np-other,hubspot:1\n")
		if ok, err := w.Reload(); !ok || err != nil {
			t.Errorf("reloading the new snapshot: %v, %v", ok, err)
		}
		swapped.Store(true)
	}()
	for b := range batches {
		if b == swapAt {
			lastBefore = b - 1
			close(swapping) // the swap runs while the next batches publish
		}
		if b == invalidAt {
			<-swapDone
			writeDirectory(t, dir, "person_id,accounts,timezone\np-x,salesforce:005X,Nowhere/Land\n")
			if ok, err := w.Reload(); ok || err == nil || !strings.Contains(err.Error(), "unknown time zone") {
				t.Errorf("reloading an invalid snapshot: %v, %v", ok, err)
			}
		}
		if firstAfter < 0 && swapped.Load() {
			firstAfter = b
		}
		batch := pub.NewBatch("salesforce-live", deadletter.Origin{Source: "salesforce-live"})
		for i := range perBatch {
			n := b*perBatch + i
			ev := event.Event{ID: "ev-" + strconv.Itoa(n), Timestamp: start.Add(time.Duration(n) * time.Millisecond),
				Tenant: "acme", Source: event.Source{System: "salesforce"},
				Event: event.Activity{Category: "data_access", Action: "view", Outcome: "success"},
				User:  event.User{ID: "005X"}}
			if batch.AddEvent(&ev, event.DefaultMaxBytes, nil, 0, i) != ingest.Accepted {
				t.Fatalf("event %d refused: %+v", n, batch.Rejected())
			}
		}
		if err := pub.Publish(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	<-swapDone
	if firstAfter < 0 {
		t.Fatal("the swap did not finish while events flowed")
	}

	person := make([]string, batches*perBatch)
	for _, m := range env.ReadTopic(t, env.Config.Topics.Activity.Name) {
		e, err := event.Decode(m.Value, event.Options{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(strings.TrimPrefix(e.ID, "ev-"))
		if err != nil || n < 0 || n >= len(person) {
			t.Fatalf("unexpected event %q", e.ID)
		}
		if person[n] != "" {
			t.Fatalf("event %d published twice", n)
		}
		if string(m.Key) != "acme/"+e.User.PersonID {
			t.Errorf("event %d: key %q, person %q", n, m.Key, e.User.PersonID)
		}
		person[n] = e.User.PersonID
	}
	changes := 0
	for n, pid := range person {
		b := n / perBatch
		switch {
		case pid == "":
			t.Fatalf("event %d lost or unresolved", n)
		case b <= lastBefore && pid != "p-old":
			t.Errorf("event %d (batch %d, before the swap): %q", n, b, pid)
		case b >= firstAfter && pid != "p-new-owner":
			t.Errorf("event %d (batch %d, after the swap): %q", n, b, pid)
		}
		if n > 0 && pid != person[n-1] {
			changes++
		}
	}
	if changes != 1 {
		t.Errorf("the person changed %d times in publishing order, want once", changes)
	}
	t.Logf("%d events; swap requested before batch %d, in force from batch %d at the latest", len(person), swapAt, firstAfter)
}
