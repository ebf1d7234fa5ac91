package event

import (
	"strconv"
	"sync/atomic"
	"time"
)

// The timestamp is parsed and formatted by hand: the contract fixes one form,
// YYYY-MM-DDThh:mm:ss.sss followed by Z or ±hh:mm, and time.Parse spends most
// of its time on layouts we do not have.

// parseTimestamp parses the contract's timestamp form, keeping the offset as
// a fixed zone. On failure it returns a reason for the error message.
func parseTimestamp(s string) (time.Time, string) {
	const head = len("2006-01-02T15:04:05")
	if len(s) < head || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 7) || s[7] != '-' ||
		!digits(s, 8, 10) || s[10] != 'T' || !digits(s, 11, 13) || s[13] != ':' ||
		!digits(s, 14, 16) || s[16] != ':' || !digits(s, 17, 19) {
		return time.Time{}, notRFC3339(s)
	}
	rest := s[head:]
	if len(rest) == 0 || rest[0] != '.' {
		if len(rest) == 0 || rest[0] == 'Z' || rest[0] == '+' || rest[0] == '-' {
			return time.Time{}, "no milliseconds (want 3 fractional digits)"
		}
		return time.Time{}, notRFC3339(s)
	}
	n := 1
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	switch {
	case n == 1:
		return time.Time{}, notRFC3339(s)
	case n != 4:
		return time.Time{}, strconv.Itoa(n-1) + " fractional digits, want 3 (milliseconds)"
	}
	ms := atoi(rest, 1, 4)
	rest = rest[4:]

	offset := 0 // minutes east of UTC
	switch {
	case len(rest) == 0:
		return time.Time{}, "no UTC offset"
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && digits(rest, 1, 3) && rest[3] == ':' && digits(rest, 4, 6):
		oh, om := atoi(rest, 1, 3), atoi(rest, 4, 6)
		if oh > 23 || om > 59 {
			return time.Time{}, "invalid UTC offset " + rest
		}
		offset = oh*60 + om
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, notRFC3339(s)
	}

	year, month, day := atoi(s, 0, 4), atoi(s, 5, 7), atoi(s, 8, 10)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return time.Time{}, "invalid date " + s[:10]
	}
	hour, minute, sec := atoi(s, 11, 13), atoi(s, 14, 16), atoi(s, 17, 19)
	if hour > 23 || minute > 59 || sec > 59 {
		// Second 60 (a leap second) is refused too: time.Time cannot hold it.
		return time.Time{}, "invalid time " + s[11:19]
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset)*60
	return time.Unix(unix, int64(ms)*1e6).In(fixedZone(offset)), ""
}

func notRFC3339(s string) string {
	return quote(s) + " is not an RFC 3339 date-time (want YYYY-MM-DDThh:mm:ss.sssZ or ±hh:mm)"
}

// digits reports whether s[i:j] is all ASCII digits.
func digits(s string, i, j int) bool {
	for ; i < j; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi reads s[i:j], which digits has checked.
func atoi(s string, i, j int) int {
	n := 0
	for ; i < j; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(int64(y), 400)
	yoe := int64(y) - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// appendTimestamp writes t in the contract's form: milliseconds, and the
// offset t carries, Z when it is zero. Sub-millisecond digits are dropped
// (Validate refuses them, so a valid event loses nothing).
func appendTimestamp(dst []byte, t time.Time) []byte {
	_, off := t.Zone()
	off -= off % 60 // RFC 3339 offsets are whole minutes; Validate refuses others
	sec := t.Unix() + int64(off)
	days := floorDiv(sec, 86400)
	rem := int(sec - days*86400)
	y, m, d := civilFromDays(days)
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, rem/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, rem/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, rem%60, 2)
	dst = append(dst, '.')
	dst = appendPadded(dst, t.Nanosecond()/1e6, 3)
	if off == 0 {
		return append(dst, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendPadded(dst, off/3600, 2)
	dst = append(dst, ':')
	return appendPadded(dst, off/60%60, 2)
}

// appendPadded writes a non-negative n with at least width digits.
func appendPadded(dst []byte, n, width int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	buf[i] = byte('0' + n)
	return append(dst, buf[i:]...)
}

// fixedZones caches one *time.Location per offset in minutes, so decoding a
// timestamp allocates no zone: index offset+maxOffset, for |offset| < 24h.
var fixedZones [2*maxOffset + 1]atomic.Pointer[time.Location]

const maxOffset = 24*60 - 1

// fixedZone is the location for an offset in minutes east of UTC; time.UTC
// for zero, so that +00:00 and Z decode to the same Time.
func fixedZone(minutes int) *time.Location {
	if minutes == 0 {
		return time.UTC
	}
	slot := &fixedZones[minutes+maxOffset]
	if loc := slot.Load(); loc != nil {
		return loc
	}
	loc := time.FixedZone("", minutes*60)
	slot.CompareAndSwap(nil, loc)
	return slot.Load()
}
