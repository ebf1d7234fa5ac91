package event

import (
	"encoding/json"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

// The exact-number and timestamp rules are checked against independent
// implementations: math/big for numbers (what JSON Schema validators use),
// time.Parse for timestamps.

func FuzzRecords(f *testing.F) {
	for _, s := range []string{"0", "-0", "5000", "5000.0", "5e3", "1.5e1", "1.5", "-1", "9223372036854775807",
		"9223372036854775808", "92233720368547758070e-1", "1e18", "1e19", "0.000e99", "1e-999999999999", "123456789012345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 || !isJSONNumber(s) || strings.Contains(strings.ToLower(s), "e") && exponentTooLarge(s) {
			return
		}
		n, _, reason := parseRecords(s)
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("math/big cannot read %q", s)
		}
		want := r.IsInt() && r.Sign() >= 0 && r.Num().IsInt64()
		if (reason == "") != want {
			t.Fatalf("parseRecords(%q) reason %q, want accepted=%v", s, reason, want)
		}
		if want && n != r.Num().Int64() {
			t.Fatalf("parseRecords(%q) = %d, want %d", s, n, r.Num().Int64())
		}
	})
}

func FuzzDegrees(f *testing.F) {
	for _, s := range []string{"90", "-90", "90.0", "9e1", "0.9e2", "90.00000000000000000001", "-90.0000000000000000001",
		"89.99999999999999999999", "180", "180.5", "1e400", "1e-400", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 || !isJSONNumber(s) || exponentTooLarge(s) {
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("math/big cannot read %q", s)
		}
		for _, limit := range []float64{90, 180} {
			v, reason := parseDegrees(s, limit)
			bound := new(big.Rat).SetFloat64(limit)
			want := r.Cmp(bound) <= 0 && r.Cmp(new(big.Rat).Neg(bound)) >= 0
			if (reason == "") != want {
				t.Fatalf("parseDegrees(%q, %v) reason %q, want accepted=%v", s, limit, reason, want)
			}
			if want {
				f, _ := r.Float64()
				if v != f {
					t.Fatalf("parseDegrees(%q) = %v, want %v", s, v, f)
				}
			}
		}
	})
}

// exponentTooLarge keeps math/big away from inputs like 1e999999999 that it
// would expand digit by digit.
func exponentTooLarge(s string) bool {
	i := strings.IndexAny(s, "eE")
	return i >= 0 && len(strings.TrimLeft(s[i+1:], "+-0")) > 3
}

func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && json.Valid([]byte(s)) && strings.TrimSpace(s) == s
}

func TestParseDegreesFloat(t *testing.T) {
	if v, reason := parseDegrees("42.36", 90); reason != "" || v != 42.36 {
		t.Fatalf("parseDegrees(42.36) = %v, %q", v, reason)
	}
	if v, reason := parseDegrees("-0", 90); reason != "" || !math.Signbit(v) {
		t.Fatalf("parseDegrees(-0) = %v, %q", v, reason)
	}
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"2026-11-03T02:14:07.412-05:00", "2026-11-03T07:14:07.412Z", "2024-02-29T23:59:59.999+14:00",
		"0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999-23:59", "2026-02-29T00:00:00.000Z", "2016-12-31T23:59:60.000Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, reason := parseTimestamp(s)
		want, err := time.Parse(time.RFC3339, s)
		// time.Parse is laxer in the fraction (any number of digits, or
		// none): hold ours to it on the one form the contract allows.
		canonical := len(s) >= 24 && s[19] == '.' && digits(s, 20, 23) && (s[23:] == "Z" || len(s) == 29 && (s[23] == '+' || s[23] == '-'))
		if reason == "" {
			if err != nil {
				t.Fatalf("parseTimestamp accepts %q, time.Parse says %v", s, err)
			}
			_, a := got.Zone()
			_, b := want.Zone()
			if !got.Equal(want) || a != b {
				t.Fatalf("parseTimestamp(%q) = %v, time.Parse = %v", s, got, want)
			}
			if back := string(appendTimestamp(nil, got)); back != s && !strings.HasSuffix(s, "+00:00") && !strings.HasSuffix(s, "-00:00") {
				t.Fatalf("appendTimestamp(parseTimestamp(%q)) = %q", s, back)
			}
			return
		}
		// time.Parse accepts offsets such as +24:00 and +00:60, which RFC 3339
		// (time-hour 00-23, time-minute 00-59) and JSON Schema's date-time
		// refuse.
		laxOffset := len(s) == 29 && digits(s, 24, 26) && digits(s, 27, 29) && (atoi(s, 24, 26) > 23 || atoi(s, 27, 29) > 59)
		if err == nil && canonical && !laxOffset {
			t.Fatalf("parseTimestamp refuses %q (%s), time.Parse reads %v", s, reason, want)
		}
	})
}
