package event

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The value rules of the contract, one function each, shared by the decoder
// (which applies them as it reads a field) and Validate (which applies them
// to an Event built in Go). Each returns nil or the error for its path.

// checkRequired is the rule for a required string: present and not empty.
// The decoder reports an absent key as "required" itself; an empty value it
// reports here.
func checkRequired(path, s string, present bool) *ValidationError {
	if !present {
		return fail(path, KindRequired, "required")
	}
	if s == "" {
		return fail(path, KindRequired, "must not be empty")
	}
	return nil
}

// checkID is the rule for id: 1 to 128 characters.
func checkID(s string) *ValidationError {
	if len(s) <= MaxIDLength {
		return nil // at most as many characters as bytes
	}
	if n := utf8.RuneCountInString(s); n > MaxIDLength {
		return fail("id", KindLength, strconv.Itoa(n)+" characters, limit "+strconv.Itoa(MaxIDLength))
	}
	return nil
}

// The enum rules return the package's own copy of the value, so a decoded
// event does not keep the input alive through its most common strings.

func category(s string) (string, bool) {
	switch s {
	case "authentication":
		return "authentication", true
	case "session":
		return "session", true
	case "data_access":
		return "data_access", true
	case "data_change":
		return "data_change", true
	case "export":
		return "export", true
	case "permission":
		return "permission", true
	case "configuration":
		return "configuration", true
	case "integration":
		return "integration", true
	}
	return "", false
}

func outcome(s string) (string, bool) {
	switch s {
	case "success":
		return "success", true
	case "failure":
		return "failure", true
	case "unknown":
		return "unknown", true
	}
	return "", false
}

func userType(s string) (string, bool) {
	switch s {
	case "human":
		return "human", true
	case "integration":
		return "integration", true
	case "system":
		return "system", true
	}
	return "", false
}

func accessMethod(s string) (string, bool) {
	switch s {
	case "web":
		return "web", true
	case "api":
		return "api", true
	case "mobile":
		return "mobile", true
	case "bulk_api":
		return "bulk_api", true
	case "integration":
		return "integration", true
	}
	return "", false
}

// notOneOf is the reason for a value outside a closed set.
func notOneOf(path, s string, set []string) *ValidationError {
	return fail(path, KindEnum, quote(s)+" is not one of "+strings.Join(set, ", "))
}

// checkCountry is the rule for client.geo.country: ISO 3166-1 alpha-2, which
// is as far as shape goes two upper-case ASCII letters.
func checkCountry(s string) *ValidationError {
	if len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' {
		return nil
	}
	return fail("client.geo.country", KindFormat, quote(s)+" is not an ISO 3166-1 alpha-2 code")
}

// checkIP is the rule for client.ip: an IPv4 address in dotted decimal
// without leading zeros, or an IPv6 address without a zone (what JSON
// Schema's ipv4 and ipv6 formats accept, and what netip parses).
func checkIP(s string) *ValidationError {
	if addr, err := netip.ParseAddr(s); err == nil && addr.Zone() == "" {
		return nil
	}
	return fail("client.ip", KindFormat, quote(s)+" is not an IPv4 or IPv6 address")
}

// maxZoneName bounds user.timezone; the longest IANA name is 32 bytes.
const maxZoneName = 64

// checkZoneShape is the shape rule for user.timezone: slash-separated
// components of ASCII letters, digits, '_', '+' and '-', each starting with a
// letter (America/Argentina/Buenos_Aires, Etc/GMT+5, EST5EDT), and not
// "Local", which Go would read as the machine's zone.
func checkZoneShape(s string) *ValidationError {
	ok := len(s) > 0 && len(s) <= maxZoneName && s != "Local"
	start := true
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		switch {
		case start:
			ok, start = letter, false
		case c == '/':
			start = true
		default:
			ok = letter || c >= '0' && c <= '9' || c == '_' || c == '+' || c == '-'
		}
	}
	if ok && !start {
		return nil
	}
	return fail("user.timezone", KindFormat, quote(s)+" is not an IANA time zone name")
}

// checkZone applies the shape rule and, when asked, loads the zone.
func checkZone(s string, resolve bool) *ValidationError {
	if err := checkZoneShape(s); err != nil {
		return err
	}
	if resolve {
		if _, err := LoadZone(s); err != nil {
			return fail("user.timezone", KindTimezone, quote(s)+" does not load: unknown time zone")
		}
	}
	return nil
}

// checkLat and checkLon are the coordinate ranges, in degrees. The
// comparisons are written so that NaN fails them.
func checkLat(v float64) *ValidationError {
	if v >= -90 && v <= 90 {
		return nil
	}
	return fail("client.geo.lat", KindRange, formatFloat(v)+" out of range [-90, 90]")
}

func checkLon(v float64) *ValidationError {
	if v >= -180 && v <= 180 {
		return nil
	}
	return fail("client.geo.lon", KindRange, formatFloat(v)+" out of range [-180, 180]")
}

func formatFloat(v float64) string { return string(appendFloat(nil, v)) }

// checkCount is the rule for the changes and labels limits.
func checkCount(path string, n, limit int, unit string) *ValidationError {
	if n <= limit {
		return nil
	}
	return fail(path, KindLimit, strconv.Itoa(n)+" "+unit+", limit "+strconv.Itoa(limit))
}

// checkWindow is the rule for the timestamp's distance from the ingest
// clock: at most MaxFuture ahead, and, unless MaxAge is zero (the replay
// path), at most MaxAge behind.
func checkWindow(t time.Time, o *Options) *ValidationError {
	if ahead := t.Sub(o.Now); ahead > o.MaxFuture {
		return fail("timestamp", KindTimeWindow, string(appendTimestamp(nil, t))+" is "+
			ahead.Round(time.Millisecond).String()+" ahead of the clock, limit "+o.MaxFuture.String())
	}
	if o.MaxAge > 0 {
		if age := o.Now.Sub(t); age > o.MaxAge {
			return fail("timestamp", KindTimeWindow, string(appendTimestamp(nil, t))+" is "+
				age.Round(time.Millisecond).String()+" old, limit "+o.MaxAge.String())
		}
	}
	return nil
}
