package event

import (
	"unicode/utf16"
	"unicode/utf8"
)

// decoder is the state of one Decode call: a cursor over the input and one
// string holding the same bytes. Every string value without escapes is a
// substring of str, so a decoded event costs one allocation for all its
// strings (DecodeInto: str is a copy of data), or none (DecodeIntoNoCopy:
// str is data itself).
type decoder struct {
	data    []byte
	str     string // data's bytes: string(data), or data itself
	pos     int
	opts    Options
	scratch []byte // unescaped string contents, only when an escape appears
}

// plain marks the bytes a string can hold as they are: printable ASCII but
// '"' and '\\'. Anything else takes the slow path of readString.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// ws skips JSON whitespace.
func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\n', '\r', '\t':
			d.pos++
		default:
			return
		}
	}
}

// kindAt names the JSON type of the value starting at pos, "" if no value
// can start there.
func (d *decoder) kindAt() string {
	if d.pos >= len(d.data) {
		return ""
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "number"
	}
	return ""
}

// typeError reports a value of the wrong type at pos, or the syntax error
// when no value starts there.
func (d *decoder) typeError(path, want string) *ValidationError {
	got := d.kindAt()
	if got == "" {
		return d.unexpected("looking for beginning of value")
	}
	return fail(path, KindType, "expected "+want+", got "+got)
}

// unexpected is the syntax error for the byte at pos (or the end of input).
func (d *decoder) unexpected(context string) *ValidationError {
	if d.pos >= len(d.data) {
		return syntaxError(len(d.data), "unexpected end of input")
	}
	return syntaxError(d.pos, "invalid character "+quoteChar(d.data[d.pos])+" "+context)
}

// stringValue reads a value that must be a string.
func (d *decoder) stringValue(path string) (string, *ValidationError) {
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.typeError(path, "string")
	}
	return d.readString(path)
}

// readString reads the string literal at pos. Strings must be valid UTF-8
// and their \u escapes must not leave a surrogate unpaired: the contract
// says strings are valid UTF-8, and what encoding/json would silently turn
// into U+FFFD we refuse.
func (d *decoder) readString(path string) (string, *ValidationError) {
	data := d.data
	start := d.pos + 1
	i := start
	for i < len(data) {
		c := data[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			d.pos = i + 1
			return d.str[start:i], nil
		case c == '\\':
			d.scratch = append(d.scratch[:0], data[start:i]...)
			return d.readEscaped(path, i)
		case c < 0x20:
			return "", syntaxError(i, "invalid character "+quoteChar(c)+" in string literal")
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return "", fail(path, KindUTF8, "invalid UTF-8")
		}
		i += size
	}
	return "", syntaxError(len(data), "unexpected end of input in string literal")
}

// readEscaped finishes a string that has an escape at i, unescaping into
// scratch, which already holds the contents before i.
func (d *decoder) readEscaped(path string, i int) (string, *ValidationError) {
	data := d.data
	for i < len(data) {
		c := data[i]
		switch {
		case plain[c]:
			d.scratch = append(d.scratch, c)
			i++
		case c == '"':
			d.pos = i + 1
			return string(d.scratch), nil
		case c < 0x20:
			return "", syntaxError(i, "invalid character "+quoteChar(c)+" in string literal")
		case c == '\\':
			if i+1 >= len(data) {
				return "", syntaxError(len(data), "unexpected end of input in string literal")
			}
			esc := data[i+1]
			switch esc {
			case '"', '\\', '/':
				d.scratch = append(d.scratch, esc)
			case 'b':
				d.scratch = append(d.scratch, '\b')
			case 'f':
				d.scratch = append(d.scratch, '\f')
			case 'n':
				d.scratch = append(d.scratch, '\n')
			case 'r':
				d.scratch = append(d.scratch, '\r')
			case 't':
				d.scratch = append(d.scratch, '\t')
			case 'u':
				r, n, err := d.unicodeEscape(path, i)
				if err != nil {
					return "", err
				}
				d.scratch = utf8.AppendRune(d.scratch, r)
				i += n
				continue
			default:
				return "", syntaxError(i+1, "invalid character "+quoteChar(esc)+" in string escape code")
			}
			i += 2
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return "", fail(path, KindUTF8, "invalid UTF-8")
			}
			d.scratch = append(d.scratch, data[i:i+size]...)
			i += size
		}
	}
	return "", syntaxError(len(data), "unexpected end of input in string literal")
}

// unicodeEscape reads \uXXXX at i, and the low half that must follow a high
// surrogate. It returns the rune and how many bytes it read.
func (d *decoder) unicodeEscape(path string, i int) (rune, int, *ValidationError) {
	r, err := d.hex4(i + 2)
	if err != nil {
		return 0, 0, err
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if r < 0xdc00 && i+12 <= len(d.data) && d.data[i+6] == '\\' && d.data[i+7] == 'u' {
		lo, err := d.hex4(i + 8)
		if err != nil {
			return 0, 0, err
		}
		if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
			return pair, 12, nil
		}
	}
	return 0, 0, fail(path, KindUTF8, "unpaired surrogate "+string(d.data[i:i+6])+" is not valid UTF-8")
}

// hex4 reads the four hex digits of a \u escape at i.
func (d *decoder) hex4(i int) (rune, *ValidationError) {
	var r rune
	for j := i; j < i+4; j++ {
		if j >= len(d.data) {
			return 0, syntaxError(len(d.data), "unexpected end of input in string literal")
		}
		c := d.data[j]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, syntaxError(j, "invalid character "+quoteChar(c)+" in \\u hexadecimal character escape")
		}
	}
	return r, nil
}

// numberValue reads a value that must be a number and returns its text,
// checked against the JSON grammar.
func (d *decoder) numberValue(path, want string) (string, *ValidationError) {
	d.ws()
	data := d.data
	start, i := d.pos, d.pos
	if i >= len(data) || data[i] != '-' && (data[i] < '0' || data[i] > '9') {
		return "", d.typeError(path, want)
	}
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = skipDigits(data, i)
	default:
		d.pos = i
		return "", d.unexpected("in numeric literal")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return "", d.unexpected("after decimal point in numeric literal")
		}
		i = skipDigits(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return "", d.unexpected("in exponent of numeric literal")
		}
		i = skipDigits(data, i)
	}
	d.pos = i
	return d.str[start:i], nil
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

// beginObject reads the '{' of a value that must be an object and reports
// whether the object is empty (its '}' read too).
func (d *decoder) beginObject(path string) (empty bool, err *ValidationError) {
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return false, d.typeError(path, "object")
	}
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return true, nil
	}
	return false, nil
}

// key reads a member's key and its ':' and leaves pos at the value. path is
// the object's, for a key that is not valid UTF-8.
func (d *decoder) key(path string) (string, *ValidationError) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.unexpected("looking for beginning of object key string")
	}
	k, err := d.readString(path)
	if err != nil {
		if err.Kind == KindUTF8 {
			err.Reason += " in a key"
		}
		return "", err
	}
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return "", d.unexpected("after object key")
	}
	d.pos++
	return k, nil
}

// more reads what follows a member's value: ',' (true, and the whitespace
// before the next key) or '}' (false).
func (d *decoder) more() (bool, *ValidationError) {
	d.ws()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.ws()
			return true, nil
		case '}':
			d.pos++
			return false, nil
		}
	}
	return false, d.unexpected("after object key:value pair")
}

// beginArray reads the '[' of a value that must be an array and reports
// whether the array is empty (its ']' read too).
func (d *decoder) beginArray(path string) (empty bool, err *ValidationError) {
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return false, d.typeError(path, "array")
	}
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return true, nil
	}
	return false, nil
}

// moreElements reads what follows an array element: ',' (true) or ']'.
func (d *decoder) moreElements() (bool, *ValidationError) {
	d.ws()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			return true, nil
		case ']':
			d.pos++
			return false, nil
		}
	}
	return false, d.unexpected("after array element")
}

// duplicate marks a known member as seen and reports a second occurrence.
func duplicate(seen *uint32, bit uint32, path string) *ValidationError {
	if *seen&bit != 0 {
		return fail(path, KindDuplicateKey, "duplicate key")
	}
	*seen |= bit
	return nil
}
