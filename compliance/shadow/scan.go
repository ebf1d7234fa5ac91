package shadow

import (
	"sort"
	"strings"
)

// Kind is what a finding is.
type Kind string

// Kinds.
const (
	Card     Kind = "card_number"
	SSN      Kind = "us_ssn"
	IBAN     Kind = "iban"
	Passport Kind = "passport_number"
	Email    Kind = "email"
	Phone    Kind = "phone"
)

// Finding is one piece of personal data at s[Start:End].
type Finding struct {
	Kind       Kind
	Start, End int
}

// Options says what to look for in a value.
type Options struct {
	// FreeText enables e-mail addresses and phone numbers, which are
	// personal data where a sentence is expected but the point of a field
	// called Email or Phone.
	FreeText bool
}

// Scan returns the findings in s, in order, without overlaps.
func Scan(s string, opt Options) []Finding {
	hasDigit, hasAt := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			hasDigit = true
		} else if c == '@' {
			hasAt = true
		}
	}
	if !hasDigit && !(hasAt && opt.FreeText) {
		return nil
	}
	var out []Finding
	if hasDigit {
		out = scanNumbers(s, opt, out)
		out = scanIBAN(s, out)
		out = scanPassport(s, out)
	}
	if hasAt && opt.FreeText {
		out = scanEmail(s, out)
	}
	if len(out) > 1 {
		sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
		// Keep the first of overlapping findings.
		kept := out[:1]
		for _, f := range out[1:] {
			if f.Start >= kept[len(kept)-1].End {
				kept = append(kept, f)
			}
		}
		out = kept
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// scanNumbers reads runs of digit groups joined by one space or dash,
// bounded by characters that are not letters or digits (so order ids like
// ORD12345 are not numbers), and classifies each run.
func scanNumbers(s string, opt Options, out []Finding) []Finding {
	var groups [24]int
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.' || s[i-1] == '/')) ||
			(i > 1 && (s[i-1] == '-' || s[i-1] == '_' || s[i-1] == '#') && isAlnum(s[i-2])) { // ORD-123…, INV_123…
			i++
			continue
		}
		start, n, ng, digits := i, 0, 0, 0
		var sep byte
		mixed := false
		j := i
		for {
			k := j
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if ng < len(groups) {
				groups[ng] = k - j
			}
			ng++
			digits += k - j
			j = k
			if j+1 < len(s) && (s[j] == ' ' || s[j] == '-') && isDigit(s[j+1]) {
				if sep != 0 && sep != s[j] {
					mixed = true
				}
				sep = s[j]
				j++
				continue
			}
			break
		}
		n = j
		i = n
		if n < len(s) && (isAlpha(s[n]) || s[n] == '/' || (s[n] == '.' && n+1 < len(s) && isDigit(s[n+1]))) {
			continue // part of a word, a date with slashes or a decimal
		}
		if ng > len(groups) {
			continue
		}
		g := groups[:ng]
		plus := start > 0 && s[start-1] == '+'
		switch {
		case !plus && !mixed && digits >= 13 && digits <= 19 && cardGroups(g) && cardLike(s[start:n]):
			out = append(out, Finding{Card, start, n})
		case !plus && !mixed && ng == 3 && g[0] == 3 && g[1] == 2 && g[2] == 4 && ssnValid(s[start:n]):
			out = append(out, Finding{SSN, start, n})
		case opt.FreeText && plus && digits >= 8 && digits <= 15:
			out = append(out, Finding{Phone, start - 1, n})
		case opt.FreeText && !mixed && ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4:
			out = append(out, Finding{Phone, start, n})
		}
	}
	return out
}

// cardGroups accepts the ways card numbers are written: unbroken, in
// fours (a 19-digit number ends in a group of 3), or Amex/Diners 4-6-5 and 4-6-4.
func cardGroups(g []int) bool {
	switch {
	case len(g) == 1:
		return true
	case len(g) == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4):
		return true
	case len(g) < 4 || len(g) > 5:
		return false
	}
	for _, n := range g[:len(g)-1] {
		if n != 4 {
			return false
		}
	}
	return g[len(g)-1] == 4 || (len(g) == 5 && g[4] == 3)
}

// cardLike: a major network's first digit and a valid Luhn checksum.
func cardLike(run string) bool {
	var d [19]byte
	n := 0
	for i := 0; i < len(run); i++ {
		if isDigit(run[i]) {
			d[n] = run[i] - '0'
			n++
		}
	}
	if d[0] < 2 || d[0] > 6 {
		return false
	}
	return Luhn(d[:n])
}

// Luhn reports whether digits (values 0-9) pass the Luhn check.
func Luhn(digits []byte) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		x := int(digits[i])
		if double {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		double = !double
	}
	return len(digits) > 1 && sum%10 == 0
}

// ssnValid applies the SSA's rules to AAA-GG-SSSS: area not 000, 666 or
// 900-999; group not 00; serial not 0000.
func ssnValid(run string) bool {
	area := int(run[0]-'0')*100 + int(run[1]-'0')*10 + int(run[2]-'0')
	if area == 0 || area == 666 || area >= 900 {
		return false
	}
	if run[4] == '0' && run[5] == '0' {
		return false
	}
	return run[7:11] != "0000"
}

// ibanLength is the IBAN length of the countries checked (SWIFT registry).
var ibanLength = map[string]int{
	"AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22,
	"GR": 27, "HU": 28, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
}

// scanIBAN looks for a country code and two check digits, then the
// country's length of letters and digits (spaces between groups allowed),
// and keeps those whose mod-97 checksum is 1.
func scanIBAN(s string, out []Finding) []Finding {
	for i := 0; i+4 <= len(s); i++ {
		c0, c1 := s[i], s[i+1]
		if c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z' || !isDigit(s[i+2]) || !isDigit(s[i+3]) || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		want, ok := ibanLength[s[i:i+2]]
		if !ok {
			continue
		}
		var buf [34]byte
		n, j := 0, i
		for j < len(s) && n < want {
			c := s[j]
			switch {
			case isAlnum(c):
				buf[n] = c
				n++
			case c == ' ' && j+1 < len(s) && isAlnum(s[j+1]) && n%4 == 0:
			default:
				j = len(s) + 1
				continue
			}
			j++
		}
		if n != want || j > len(s) || (j < len(s) && isAlnum(s[j])) {
			continue
		}
		if ibanValid(buf[:n]) {
			out = append(out, Finding{IBAN, i, j})
			i = j - 1
		}
	}
	return out
}

// ibanValid moves the first four characters to the end, reads letters as
// 10-35, and checks that the number mod 97 is 1 (ISO 13616).
func ibanValid(b []byte) bool {
	rem := 0
	for k := 0; k < len(b); k++ {
		c := b[(k+4)%len(b)]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// scanPassport finds the word passport followed, within 30 bytes, by a
// token of 6-9 letters and digits with at least one digit.
func scanPassport(s string, out []Finding) []Finding {
	lower := -1
	for off := 0; ; {
		k := indexFold(s[off:], "passport")
		if k < 0 {
			return out
		}
		lower = off + k + len("passport")
		off = lower
		for j := lower; j < len(s) && j < lower+30; {
			if !isAlnum(s[j]) {
				j++
				continue
			}
			e := j
			digit := false
			for e < len(s) && isAlnum(s[e]) {
				digit = digit || isDigit(s[e])
				e++
			}
			if digit && e-j >= 6 && e-j <= 9 {
				out = append(out, Finding{Passport, j, e})
				break
			}
			j = e
		}
	}
}

func indexFold(s, word string) int {
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i]|0x20 == word[0] && strings.EqualFold(s[i:i+len(word)], word) {
			return i
		}
	}
	return -1
}

func emailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// scanEmail expands each '@' into local@domain with a dotted domain whose
// last label has two or more letters.
func scanEmail(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		a := i
		for a > 0 && emailLocal(s[a-1]) {
			a--
		}
		b := i + 1
		for b < len(s) && (isAlnum(s[b]) || s[b] == '-' || s[b] == '.') {
			b++
		}
		for b > i+1 && s[b-1] == '.' {
			b--
		}
		dom := s[i+1 : b]
		dot := strings.LastIndexByte(dom, '.')
		if a == i || dot <= 0 || len(dom)-dot-1 < 2 {
			continue
		}
		tld := dom[dot+1:]
		ok := true
		for k := 0; k < len(tld); k++ {
			ok = ok && isAlpha(tld[k])
		}
		if ok {
			out = append(out, Finding{Email, a, b})
			i = b - 1
		}
	}
	return out
}
