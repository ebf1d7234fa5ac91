package event

import (
	"math"
	"strconv"
	"strings"
)

// Numbers are judged by their exact decimal value, as JSON Schema does:
// 5000, 5000.0 and 5e3 are the same integer, and 90.0000000000000000001 is
// out of [-90, 90] even though it rounds to 90 as a float64.

// parseRecords reads records: an integer >= 0 that fits int64. text is a
// JSON number the scanner has checked. On failure it returns the kind of
// error and a reason.
func parseRecords(text string) (int64, Kind, string) {
	if len(text) <= 18 && plainDigits(text) {
		var n int64
		for i := 0; i < len(text); i++ {
			n = n*10 + int64(text[i]-'0')
		}
		return n, "", ""
	}
	neg, mant, exp := decimal(text)
	switch {
	case mant == "":
		return 0, "", "" // zero, however written (-0, 0.0e9)
	case exp < 0:
		return 0, KindType, quote(text) + " is not an integer"
	case neg:
		return 0, KindRange, quote(text) + " is negative"
	case len(mant)+exp > 19:
		return 0, KindRange, quote(text) + " is out of range (max 9223372036854775807)"
	}
	var n uint64
	for i := 0; i < len(mant)+exp; i++ {
		d := uint64(0)
		if i < len(mant) {
			d = uint64(mant[i] - '0')
		}
		if n > (math.MaxInt64-d)/10 {
			return 0, KindRange, quote(text) + " is out of range (max 9223372036854775807)"
		}
		n = n*10 + d
	}
	return int64(n), "", ""
}

func plainDigits(s string) bool {
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

// parseDegrees reads a coordinate and checks it lies in [-limit, limit].
func parseDegrees(text string, limit float64) (float64, string) {
	v, err := strconv.ParseFloat(text, 64)
	outside := err != nil || v < -limit || v > limit
	if !outside && (v == limit || v == -limit) {
		// The float may have rounded onto the bound from either side:
		// compare the exact decimal with it.
		_, mant, exp := decimal(text)
		outside = compareMagnitude(mant, exp, int(limit)) > 0
	}
	if outside {
		return 0, quote(text) + " out of range [" + formatFloat(-limit) + ", " + formatFloat(limit) + "]"
	}
	return v, ""
}

// compareMagnitude compares |mant × 10^exp|, in decimal's form, with the
// integer n > 0.
func compareMagnitude(mant string, exp int, n int) int {
	if mant == "" {
		return -1
	}
	nmant, nexp := strconv.Itoa(n), 0
	for strings.HasSuffix(nmant, "0") {
		nmant, nexp = nmant[:len(nmant)-1], nexp+1
	}
	// Digits before the decimal point decide first; with as many, the digit
	// strings compare as text (neither has trailing zeros).
	if a, b := len(mant)+exp, len(nmant)+nexp; a != b {
		if a > b {
			return 1
		}
		return -1
	}
	return strings.Compare(mant, nmant)
}

// decimal splits a JSON number into its sign and exact value mant × 10^exp,
// mant being its significant digits without leading or trailing zeros (""
// for zero). Exponents are clamped far beyond any range we test, so that
// 1e999999999999 cannot overflow the arithmetic.
func decimal(text string) (neg bool, mant string, exp int) {
	i := 0
	if i < len(text) && text[i] == '-' {
		neg = true
		i++
	}
	var b strings.Builder
	fracDigits := 0
	inFrac := false
	for ; i < len(text); i++ {
		c := text[i]
		if c == '.' {
			inFrac = true
			continue
		}
		if c == 'e' || c == 'E' {
			exp = parseExp(text[i+1:])
			break
		}
		if inFrac {
			fracDigits++
		}
		if c != '0' || b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	mant = b.String()
	exp -= fracDigits
	for len(mant) > 0 && mant[len(mant)-1] == '0' {
		mant = mant[:len(mant)-1]
		exp++
	}
	if mant == "" {
		return neg, "", 0
	}
	return neg, mant, exp
}

// parseExp reads an exponent's optional sign and digits, clamped to ±1e9.
func parseExp(s string) int {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && n < 1e9; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// appendFloat writes a float64 as encoding/json does: the shortest decimal
// that reads back as the same value, in exponent form only for very small or
// very large magnitudes.
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
