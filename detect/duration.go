package detect

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day and Week extend time.Duration's units for rule authors: windows and
// histories are naturally "30d".
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// ParseDuration reads a duration such as "90s", "10m", "1h30m", "30d" or
// "2w": Go's units (ns, us, ms, s, m, h) plus d (24h) and w (7d). It refuses
// negative durations and bare numbers without a unit.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q: expected a number", orig)
		}
		num := s[:i]
		s = strings.TrimLeft(s[i:], " ")
		j := 0
		for j < len(s) && (s[j] < '0' || s[j] > '9') && s[j] != '.' {
			j++
		}
		unit := s[:j]
		s = s[j:]
		var mult time.Duration
		switch unit {
		case "ns":
			mult = time.Nanosecond
		case "us", "µs":
			mult = time.Microsecond
		case "ms":
			mult = time.Millisecond
		case "s":
			mult = time.Second
		case "m":
			mult = time.Minute
		case "h":
			mult = time.Hour
		case "d":
			mult = Day
		case "w":
			mult = Week
		case "":
			return 0, fmt.Errorf("invalid duration %q: missing unit (s, m, h, d, w)", orig)
		default:
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use ms, s, m, h, d or w)", orig, unit)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		v := f * float64(mult)
		if v > float64(1<<62) {
			return 0, fmt.Errorf("invalid duration %q: too long", orig)
		}
		total += time.Duration(v)
		if total < 0 || total > 1<<62 {
			return 0, fmt.Errorf("invalid duration %q: too long", orig)
		}
	}
	return total, nil
}

// FormatDuration writes d the way rules write it: "30d", "1h30m", "90s".
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	if d < time.Second {
		return b.String() + d.String()
	}
	units := []struct {
		u    time.Duration
		name string
	}{{Week, "w"}, {Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for _, u := range units {
		if d >= u.u {
			n := d / u.u
			d -= n * u.u
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
		}
	}
	if d > 0 {
		b.WriteString(strconv.FormatInt(int64(d/time.Millisecond), 10))
		b.WriteString("ms")
	}
	return b.String()
}
