package event

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestSpecial checks the eight-bytes-at-a-time test never misses a byte that
// is not plain: every byte value at every position, among plain fillers and
// among random bytes.
func TestSpecial(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var plainBytes []byte
	for c := range 256 {
		if plain[c] {
			plainBytes = append(plainBytes, byte(c))
		}
	}
	check := func(b [8]byte) {
		want := false
		for _, c := range b {
			want = want || !plain[c]
		}
		got := special(binary.LittleEndian.Uint64(b[:])) != 0
		if want && !got {
			t.Fatalf("special(% x) misses a byte that is not plain", b)
		}
		if !want && got {
			t.Fatalf("special(% x) flags eight plain bytes", b)
		}
	}
	for pos := range 8 {
		for c := range 256 {
			for range 8 {
				var b [8]byte
				for i := range b {
					b[i] = plainBytes[rng.IntN(len(plainBytes))]
				}
				b[pos] = byte(c)
				check(b)
			}
		}
	}
	for range 100000 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], rng.Uint64())
		check(b)
	}
}
