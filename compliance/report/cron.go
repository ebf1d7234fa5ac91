package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed five-field cron expression (minute hour day-of-month
// month day-of-week), with *, lists, ranges and steps (*/15, 1-5, 0,30);
// day of week 0-7 (0 and 7 are Sunday). As in Vixie cron, when both day
// fields are restricted a day matches either.
type Cron struct {
	min, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar           bool
	text                       string
}

func (c Cron) String() string { return c.text }

// ParseCron reads a cron expression; @hourly, @daily, @weekly and
// @monthly are accepted.
func ParseCron(s string) (Cron, error) {
	text := strings.TrimSpace(s)
	switch text {
	case "@hourly":
		s = "0 * * * *"
	case "@daily", "@midnight":
		s = "0 0 * * *"
	case "@weekly":
		s = "0 0 * * 0"
	case "@monthly":
		s = "0 0 1 * *"
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return Cron{}, fmt.Errorf("cron %q: want five fields (minute hour day-of-month month day-of-week), got %d", text, len(f))
	}
	c := Cron{text: text, domStar: f[2] == "*", dowStar: f[4] == "*"}
	var err error
	for i, spec := range []struct {
		dst      *uint64
		name     string
		min, max int
	}{{&c.min, "minute", 0, 59}, {&c.hour, "hour", 0, 23}, {&c.dom, "day of month", 1, 31}, {&c.month, "month", 1, 12}, {&c.dow, "day of week", 0, 7}} {
		if *spec.dst, err = field(f[i], spec.min, spec.max); err != nil {
			return Cron{}, fmt.Errorf("cron %q: %s: %w", text, spec.name, err)
		}
	}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1
	}
	return c, nil
}

func field(s string, lo, hi int) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(s, ",") {
		rng, step := part, 1
		if r, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("step %q is not a positive number", st)
			}
			rng, step = r, n
		}
		a, b := lo, hi
		if rng != "*" {
			x, y, isRange := strings.Cut(rng, "-")
			var err error
			if a, err = strconv.Atoi(x); err != nil {
				return 0, fmt.Errorf("%q is not a number", x)
			}
			b = a
			if isRange {
				if b, err = strconv.Atoi(y); err != nil {
					return 0, fmt.Errorf("%q is not a number", y)
				}
			} else if step > 1 {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return 0, fmt.Errorf("%q is outside %d-%d", part, lo, hi)
		}
		for v := a; v <= b; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func (c Cron) matches(t time.Time) bool {
	if c.min&(1<<uint(t.Minute())) == 0 || c.hour&(1<<uint(t.Hour())) == 0 || c.month&(1<<uint(t.Month())) == 0 {
		return false
	}
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom || dow
}

// Next is the first instant after t, at a whole minute, whose wall clock
// in zone matches; zero when none does within five years. A wall-clock
// time that a daylight-saving jump skips does not happen that day; one it
// repeats happens once, at its first occurrence.
func (c Cron) Next(t time.Time, zone *time.Location) time.Time {
	end := t.AddDate(5, 0, 0)
	for u := t.Truncate(time.Minute).Add(time.Minute); u.Before(end); u = u.Add(time.Minute) {
		w := u.In(zone)
		if !c.matches(w) {
			continue
		}
		if p := u.Add(-time.Hour).In(zone); p.Hour() == w.Hour() && p.Minute() == w.Minute() && p.Day() == w.Day() {
			continue // the repeated hour of a fall-back: already fired
		}
		return u
	}
	return time.Time{}
}
