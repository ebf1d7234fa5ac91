package event

import (
	"encoding/json"
	"os"
	"testing"
)

// benchInput reads one of the benchmark events, without its trailing newline.
func benchInput(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/bench/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	for len(data) > 0 && (data[len(data)-1] == '\n' || data[len(data)-1] == '\r') {
		data = data[:len(data)-1]
	}
	return data
}

// BenchmarkDecodeStdlib is the baseline the hand-written decoder is measured
// against: encoding/json into the same type, with no validation at all (it
// accepts unknown fields, duplicate keys, invalid UTF-8 and any value). Built
// with GOEXPERIMENT=jsonv2 it measures encoding/json on the v2 engine, and
// BenchmarkDecodeJSONv2 (baseline_jsonv2_test.go) the v2 API itself.
func BenchmarkDecodeStdlib(b *testing.B) {
	for _, name := range []string{"export.json", "login.json"} {
		b.Run(name, func(b *testing.B) {
			data := benchInput(b, name)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var e Event
				if err := json.Unmarshal(data, &e); err != nil {
					b.Fatal(err)
				}
			}
			reportPerEvent(b)
		})
	}
}

// reportPerEvent adds ns/event and events/s; one op is one event.
func reportPerEvent(b *testing.B) {
	b.Helper()
	s := b.Elapsed().Seconds()
	if b.N == 0 || s == 0 {
		return
	}
	b.ReportMetric(s*1e9/float64(b.N), "ns/event")
	b.ReportMetric(float64(b.N)/s, "events/s")
}
