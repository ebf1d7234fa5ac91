package event

import (
	"fmt"
	"sync"
	"testing"
)

// TestDecodeConcurrent decodes from many goroutines at once, through the
// shared zone caches (fixed offsets and IANA names), for the race detector.
func TestDecodeConcurrent(t *testing.T) {
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var e Event
			for i := range 200 {
				minutes := (g*200+i)%(2*maxOffset) - maxOffset
				sign, abs := '+', minutes
				if minutes < 0 {
					sign, abs = '-', -minutes
				}
				in := mk("timestamp", fmt.Sprintf(`"2026-01-01T12:00:00.000%c%02d:%02d"`, sign, abs/60, abs%60),
					"user", fmt.Sprintf(`{"id":"u%d","timezone":%q}`, i, zones[i%len(zones)]))
				opts := testOptions()
				opts.MaxAge = 0
				if err := DecodeInto(&e, []byte(in), opts); err != nil {
					t.Error(err)
					return
				}
				if _, off := e.Timestamp.Zone(); off != minutes*60 {
					t.Errorf("offset %d, want %d", off, minutes*60)
					return
				}
			}
		})
	}
	wg.Wait()
}
