package score

import (
	"regexp"
	"strings"
	"testing"
)

var alertErrRE = regexp.MustCompile(`^a(:\d+)?: `)

func FuzzReadAlerts(f *testing.F) {
	f.Add(`{"id":"a1","rule":{"id":"r"},"tenant":"acme","triggered_at":"2026-11-02T10:00:00.000Z","event_ids":["e1"]}`)
	f.Add("{}\n[]\nnull\n\"x\"\n")
	f.Add(`{"id":"a","rule":{"id":"r"},"tenant":"t","triggered_at":"2026-11-02T10:00:00Z","values":{"x":[1,{"y":null}]},"group":{"a":"b"}}`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ReadAlerts(strings.NewReader(s), "a")
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !alertErrRE.MatchString(line) {
					t.Fatalf("error line without file:line: %q", line)
				}
			}
			return
		}
		for _, a := range got {
			if a.ID == "" || a.Rule.ID == "" || a.Tenant == "" || a.TriggeredAt.IsZero() {
				t.Fatalf("accepted an incomplete alert %+v", a)
			}
		}
		// Scoring what was read never fails.
		Score(nil, got, Options{})
	})
}
