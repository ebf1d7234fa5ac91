// Package recordtest holds test helpers shared by the normaliser packages:
// reading testdata records, checking events against the contract, and
// comparing events field by field.
package recordtest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Meta is the configuration every normaliser test uses.
var Meta = record.Meta{Tenant: "acme", Collector: "test"}

// Lines reads the non-blank lines of an NDJSON testdata file.
func Lines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	lr := record.NewLineReader(f, 0)
	var out [][]byte
	for {
		data, _, err := lr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out = append(out, append([]byte(nil), data...))
	}
}

// Rows reads the rows of a CSV testdata file with a header.
func Rows(tb testing.TB, path string) []*record.Row {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	cr, err := record.NewCSVReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var out []*record.Row
	for {
		row, err := cr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out = append(out, row)
	}
}

// CheckContract fails the test if ev breaks the canonical event contract
// (event.Validate without a clock: see NoClock), or if
// its encoding does not decode back to the same event.
func CheckContract(tb testing.TB, ev *event.Event) {
	tb.Helper()
	if err := event.Validate(ev, NoClock); err != nil {
		tb.Fatalf("event %s breaks the contract: %v", ev.ID, err)
	}
	enc := event.AppendJSON(nil, ev)
	back, err := event.Decode(enc, NoClock)
	if err != nil {
		tb.Fatalf("event %s does not decode from its own encoding: %v\n%s", ev.ID, err, enc)
	}
	if !back.Equal(ev) {
		tb.Fatalf("event %s changed in an encode/decode round trip:\n%s", ev.ID, enc)
	}
}

// NoClock are the contract's limits with the time window out of the way: no
// maximum age (the replay and backfill path) and a clock at the last
// instant RFC 3339 can write, so no timestamp is in its future. The window is
// the ingest path's business; a normaliser's output must be valid whatever
// the clock says (the vendors' examples are years old, fuzzed ones may be
// years ahead).
var NoClock = event.Options{Now: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)}

// Equal fails the test, showing both events as JSON, unless got equals want
// in every field (presence flags and time instants included).
func Equal(tb testing.TB, got, want event.Event) {
	tb.Helper()
	if !got.Timestamp.Equal(want.Timestamp) {
		tb.Errorf("timestamp = %s, want %s", got.Timestamp, want.Timestamp)
	}
	got.Timestamp = want.Timestamp // instants compared above; locations may differ
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		tb.Errorf("event mismatch\n got: %s\nwant: %s\n(has_records got %v want %v; has_coords got %v want %v)",
			g, w, got.HasRecords, want.HasRecords, got.Client.Geo.HasCoords, want.Client.Geo.HasCoords)
	}
}

// ProcessCPU returns the CPU time (user + system) the process has used. On a
// shared machine a benchmark's wall time includes waiting for a core;
// dividing the CPU time it used by b.N does not.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
