package chdb

import (
	"io"
	"testing"
)

// BenchmarkSmallQuery compares the engine's one-piece and streaming calls
// for a one-row result: the streaming API costs extra round trips.
func BenchmarkSmallQuery(b *testing.B) {
	e := openTest(b)
	const sql = "SELECT 1 AS x, 'y' AS s"
	b.ReportAllocs()
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := e.Query(b.Context(), sql, "Native"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			c, err := e.Acquire(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			s, err := c.Stream(sql, "Native")
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := s.Next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			c.Release()
		}
	})
}
