package adapter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxAdvisedWait bounds what a header can ask for, so a hostile or broken
// value cannot overflow a duration or park a worker for years.
const maxAdvisedWait = 24 * time.Hour

// ParseRetryAfter reads an HTTP Retry-After value (RFC 9110 §10.2.3):
// either delay-seconds or an HTTP-date. It returns the wait from now and
// whether the value was valid; a date in the past gives 0. Values beyond a
// day are capped at a day.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxAdvisedWait/time.Second) {
			return maxAdvisedWait, true // all digits, only too large
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return clampWait(t.Sub(now)), true
}

// ParseResetEpoch reads a rate-limit reset header given in UTC epoch
// seconds (Okta's X-Rate-Limit-Reset) and returns the wait from now.
func ParseResetEpoch(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if !isDigits(v) {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > now.Unix()+int64(maxAdvisedWait/time.Second) {
		return maxAdvisedWait, true
	}
	return clampWait(time.Unix(n, 0).Sub(now)), true
}

// AdvisedWait is the longest wait the response headers ask for: the
// standard Retry-After, or the epoch-seconds reset header named by
// resetHeader (empty for none).
func AdvisedWait(h http.Header, resetHeader string, now time.Time) time.Duration {
	var wait time.Duration
	if d, ok := ParseRetryAfter(h.Get("Retry-After"), now); ok {
		wait = d
	}
	if resetHeader != "" {
		if d, ok := ParseResetEpoch(h.Get(resetHeader), now); ok && d > wait {
			wait = d
		}
	}
	return wait
}

func clampWait(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if d > maxAdvisedWait {
		return maxAdvisedWait
	}
	return d
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
