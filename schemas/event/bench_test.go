package event

import (
	"testing"
	"time"
)

// benchNow is the ingest clock for the benchmark events, shortly after their
// timestamps, so the live-path window applies as in production.
var benchNow = time.Date(2026, 11, 3, 7, 20, 0, 0, time.UTC)

func benchOptions() Options {
	o := DefaultOptions()
	o.Now = benchNow
	return o
}

var benchEvents = []string{"export.json", "login.json"}

// BenchmarkDecode is the ingest hot path: one new Event per input.
func BenchmarkDecode(b *testing.B) {
	for _, name := range benchEvents {
		b.Run(name, func(b *testing.B) {
			data := benchInput(b, name)
			opts := benchOptions()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decode(data, opts); err != nil {
					b.Fatal(err)
				}
			}
			reportPerEvent(b)
		})
	}
}

// BenchmarkDecodeInto reuses one Event, its slices and its labels map.
func BenchmarkDecodeInto(b *testing.B) {
	for _, name := range benchEvents {
		b.Run(name, func(b *testing.B) {
			data := benchInput(b, name)
			opts := benchOptions()
			var e Event
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := DecodeInto(&e, data, opts); err != nil {
					b.Fatal(err)
				}
			}
			reportPerEvent(b)
		})
	}
}

// BenchmarkEncode appends the canonical encoding to a reused buffer.
func BenchmarkEncode(b *testing.B) {
	for _, name := range benchEvents {
		b.Run(name, func(b *testing.B) {
			e, err := Decode(benchInput(b, name), benchOptions())
			if err != nil {
				b.Fatal(err)
			}
			buf := AppendJSON(nil, &e)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = AppendJSON(buf[:0], &e)
			}
			reportPerEvent(b)
		})
	}
}

// BenchmarkValidate is what a collector pays to check an Event built in Go.
func BenchmarkValidate(b *testing.B) {
	for _, name := range benchEvents {
		b.Run(name, func(b *testing.B) {
			e, err := Decode(benchInput(b, name), benchOptions())
			if err != nil {
				b.Fatal(err)
			}
			opts := benchOptions()
			b.ReportAllocs()
			for b.Loop() {
				if err := Validate(&e, opts); err != nil {
					b.Fatal(err)
				}
			}
			reportPerEvent(b)
		})
	}
}
