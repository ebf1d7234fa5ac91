package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode holds the decoder to its contract on any input: it never
// panics; every error is a *ValidationError; and whatever it accepts is JSON,
// passes Validate, reads the same to encoding/json, decodes the same into a
// reused Event, and survives the canonical encoding unchanged.
func FuzzDecode(f *testing.F) {
	for _, pattern := range []string{"testdata/corpus/*/*.json", "testdata/bench/*.json"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	opts := corpusOptions()
	opts.ResolveTimezone = true
	roomy := opts
	roomy.MaxBytes = 1 << 30 // the canonical form of a number can be longer than the input's
	var reused, borrowed Event
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data, opts)
		// The no-copy decoder reads the same bytes the same way: the same
		// verdict, the same error, the same event (into a reused Event).
		own := bytes.Clone(data)
		nerr := DecodeIntoNoCopy(&borrowed, own, opts)
		if (err == nil) != (nerr == nil) || err != nil && err.Error() != nerr.Error() {
			t.Fatalf("DecodeIntoNoCopy: %v, DecodeInto: %v", nerr, err)
		}
		if err == nil && !borrowed.Equal(&e) {
			t.Fatalf("DecodeIntoNoCopy reads it differently:\n got %+v\nwant %+v", borrowed, e)
		}
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || !errors.Is(err, ErrInvalidEvent) || verr.Kind == "" || err.Error() == "" {
				t.Fatalf("error %#v is not a well-formed *ValidationError", err)
			}
			if verr.Offset > len(data) || (verr.Kind == KindSyntax) != (verr.Offset >= 0) {
				t.Fatalf("syntax error offset %d for %d bytes (kind %s)", verr.Offset, len(data), verr.Kind)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted input that is not JSON: %q", data)
		}
		if err := Validate(&e, roomy); err != nil {
			t.Fatalf("Validate rejects a decoded event: %v", err)
		}
		if err := DecodeInto(&reused, data, opts); err != nil || !reused.Equal(&e) {
			t.Fatalf("decoding into a reused Event: %v\n got %+v\nwant %+v", err, reused, e)
		}
		var std Event
		if json.Unmarshal(data, &std) == nil {
			std.HasRecords, std.Client.Geo.HasCoords = e.HasRecords, e.Client.Geo.HasCoords
			if !std.Equal(&e) {
				t.Fatalf("encoding/json reads it differently:\n std  %+v\n ours %+v", std, e)
			}
		}
		out := AppendJSON(nil, &e)
		back, err := Decode(out, roomy)
		if err != nil {
			t.Fatalf("the canonical encoding %s does not decode: %v", out, err)
		}
		if !back.Equal(&e) {
			t.Fatalf("round trip changed the event:\n in  %+v\n out %+v", e, back)
		}
		if again := AppendJSON(nil, &back); string(again) != string(out) {
			t.Fatalf("canonical encoding is not stable:\n %s\n %s", out, again)
		}
	})
}
