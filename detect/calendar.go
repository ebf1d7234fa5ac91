package detect

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// calendar is a compiled Calendar.
type calendar struct {
	zone     *time.Location // nil: unknown
	days     [7]bool        // by time.Weekday
	ranges   [][2]int       // minutes since local midnight, [start, end); end < start wraps midnight
	holidays map[int32]bool // yyyymmdd
}

var weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func compileCalendar(c Calendar) (*calendar, error) {
	cal := &calendar{holidays: map[int32]bool{}}
	if c.Zone != "" {
		loc, err := time.LoadLocation(c.Zone)
		if err != nil {
			return nil, fmt.Errorf("zone %q: not a known IANA time zone", c.Zone)
		}
		cal.zone = loc
	}
	for _, day := range c.Days {
		i := indexOf(weekdayNames, strings.ToLower(strings.TrimSpace(day))[:min(3, len(strings.TrimSpace(day)))])
		if i < 0 {
			return nil, fmt.Errorf("days: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", day)
		}
		cal.days[i] = true
	}
	if strings.TrimSpace(c.Hours) != "" {
		for _, r := range strings.Split(c.Hours, ",") {
			start, end, ok := strings.Cut(strings.TrimSpace(r), "-")
			if !ok {
				return nil, fmt.Errorf("hours: %q is not a range such as 08:00-18:00", r)
			}
			s, err1 := clockMinutes(start)
			e, err2 := clockMinutes(end)
			if err1 != nil || err2 != nil || s == e {
				return nil, fmt.Errorf("hours: %q is not a range such as 08:00-18:00", r)
			}
			cal.ranges = append(cal.ranges, [2]int{s, e})
		}
	}
	for _, h := range c.Holidays {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(h))
		if err != nil {
			return nil, fmt.Errorf("holidays: %q is not a date such as 2026-12-25", h)
		}
		cal.holidays[dateKey(t)] = true
	}
	return cal, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// clockMinutes reads "08:00" (or "24:00" as the end of the day).
func clockMinutes(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, fmt.Errorf("bad time")
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("bad time")
	}
	return hh*60 + mm, nil
}

func dateKey(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(y*10000 + int(m)*100 + d)
}

// working says whether local time t (already in the actor's zone) is within
// the calendar's working hours. A range that wraps midnight belongs to the
// day it starts on: for 22:00-06:00 on mon-fri, Saturday 03:00 is Friday's
// shift and so working time.
func (c *calendar) working(t time.Time) bool {
	mins := t.Hour()*60 + t.Minute()
	for _, r := range c.ranges {
		if r[0] < r[1] {
			if mins >= r[0] && mins < r[1] && c.workday(t) {
				return true
			}
			continue
		}
		if mins >= r[0] && c.workday(t) {
			return true
		}
		if mins < r[1] && c.workday(t.AddDate(0, 0, -1)) {
			return true
		}
	}
	return false
}

func (c *calendar) workday(t time.Time) bool {
	return c.days[t.Weekday()] && !c.holidays[dateKey(t)]
}

// zones resolves and caches time zones by name for one shard. Loading a
// zone reads the tz database once per name; the cache is bounded so a
// stream of garbage names cannot grow it without limit.
type zones struct {
	byName   map[string]*time.Location
	byOffset map[int32]*time.Location
}

const maxCachedZones = 2048

func (z *zones) get(name string) *time.Location {
	if loc, ok := z.byName[name]; ok {
		return loc
	}
	var loc *time.Location
	if isZoneName(name) {
		if l, err := time.LoadLocation(name); err == nil && name != "Local" {
			loc = l
		}
	}
	if z.byName == nil {
		z.byName = map[string]*time.Location{}
	}
	if len(z.byName) < maxCachedZones {
		z.byName[name] = loc
	}
	return loc
}

// isZoneName screens names before they reach the tz database loader (which
// would otherwise try them as file paths).
func isZoneName(s string) bool {
	if s == "" || len(s) > 64 || strings.Contains(s, "..") || strings.HasPrefix(s, "/") {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '/' || r == '_' || r == '-' || r == '+') {
			return false
		}
	}
	return true
}

// localTime is the actor's local time for an event: in user.timezone when
// set and known; else in the timestamp's own offset when that is not UTC;
// else in the calendar's zone when configured; else UTC.
func localTime(ts time.Time, userTZ string, cal *calendar, z *zones) time.Time {
	if userTZ != "" {
		if loc := z.get(userTZ); loc != nil {
			return ts.In(loc)
		}
	}
	if _, off := ts.Zone(); off != 0 {
		return ts
	}
	if cal != nil && cal.zone != nil {
		return ts.In(cal.zone)
	}
	return ts.UTC()
}
