package event

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testNow is the ingest clock of the tests: 40 minutes after the base
// event's timestamp (2026-11-03T02:14:07.412-05:00 is 07:14:07.412Z).
var testNow = time.Date(2026, 11, 3, 7, 54, 7, 412e6, time.UTC)

// testOptions are the defaults on the live path at testNow.
func testOptions() Options {
	o := DefaultOptions()
	o.Now = testNow
	return o
}

// baseMembers is a minimal valid event, member by member, in order.
var baseMembers = [][2]string{
	{"id", `"e1"`},
	{"timestamp", `"2026-11-03T02:14:07.412-05:00"`},
	{"tenant", `"acme"`},
	{"source", `{"system":"salesforce"}`},
	{"event", `{"category":"export","action":"export","outcome":"success"}`},
	{"user", `{"id":"u1"}`},
}

// mk builds an event from the base: each pair of arguments sets a top-level
// member's raw JSON value, an empty value removes it, and a member the base
// lacks is appended.
func mk(kv ...string) string {
	members := append([][2]string(nil), baseMembers...)
	for i := 0; i+1 < len(kv); i += 2 {
		key, raw := kv[i], kv[i+1]
		found := false
		for j := range members {
			if members[j][0] == key {
				members[j][1], found = raw, true
			}
		}
		if !found {
			members = append(members, [2]string{key, raw})
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	for _, m := range members {
		if m[1] == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + m[0] + `":` + m[1])
	}
	b.WriteByte('}')
	return b.String()
}

// errorText checks err is nil or a *ValidationError matching ErrInvalidEvent
// and returns its text ("" for nil).
func errorText(tb testing.TB, err error) string {
	tb.Helper()
	if err == nil {
		return ""
	}
	var verr *ValidationError
	if !errors.As(err, &verr) {
		tb.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if !errors.Is(err, ErrInvalidEvent) {
		tb.Fatalf("error %v does not match ErrInvalidEvent", err)
	}
	if verr.Kind == "" {
		tb.Fatalf("error %v has no kind", err)
	}
	return err.Error()
}

// repeat joins n copies of an element made by f(i) with commas.
func repeat(n int, f func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = f(i)
	}
	return strings.Join(parts, ",")
}
