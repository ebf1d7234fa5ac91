//go:build goexperiment.jsonv2

package event

import (
	jsonv2 "encoding/json/v2"
	"testing"
)

// BenchmarkDecodeJSONv2 is the encoding/json/v2 baseline (GOEXPERIMENT=jsonv2):
// it rejects duplicate keys, invalid UTF-8 and, as asked here, unknown
// members, but checks no value (enums, formats, ranges, required fields).
func BenchmarkDecodeJSONv2(b *testing.B) {
	for _, name := range benchEvents {
		b.Run(name, func(b *testing.B) {
			data := benchInput(b, name)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var e Event
				if err := jsonv2.Unmarshal(data, &e, jsonv2.RejectUnknownMembers(true)); err != nil {
					b.Fatal(err)
				}
			}
			reportPerEvent(b)
		})
	}
}
