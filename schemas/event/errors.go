package event

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalidEvent is what every rejection matches with errors.Is; the
// concrete error is a *ValidationError.
var ErrInvalidEvent = errors.New("invalid event")

// Kind classifies a rejection into a small, fixed set, so callers can count
// rejects by reason without the unbounded values a Path or Reason carries
// (label keys, array indices, the offending value).
type Kind string

// The kinds of rejection.
const (
	KindSyntax       Kind = "syntax"        // not JSON, or trailing data after the object
	KindSize         Kind = "size"          // the encoded event is over the byte limit
	KindType         Kind = "type"          // a value of the wrong JSON type
	KindRequired     Kind = "required"      // a required field is absent or empty
	KindUnknownField Kind = "unknown_field" // a field the contract does not define
	KindDuplicateKey Kind = "duplicate_key" // the same key twice in one object
	KindUTF8         Kind = "utf8"          // a string that is not valid UTF-8
	KindFormat       Kind = "format"        // a value of the right type but the wrong shape
	KindEnum         Kind = "enum"          // a value outside a closed set
	KindRange        Kind = "range"         // a number out of range
	KindLength       Kind = "length"        // a string too long or too short
	KindLimit        Kind = "limit"         // too many changes or labels
	KindTimeWindow   Kind = "time_window"   // timestamp too far in the future or the past
	KindTimezone     Kind = "timezone"      // user.timezone does not load
)

// ValidationError is one rejected event: where and why. It is the only error
// Decode, DecodeInto and Validate return.
type ValidationError struct {
	// Path is the field path in the contract's notation (`user.id`,
	// `changes[3].old`, `labels.region`); empty for errors about the whole
	// event or about JSON syntax.
	Path string
	// Reason says what is wrong, in words that are stable for a given input.
	Reason string
	// Kind classifies the error (bounded; safe as a metric label).
	Kind Kind
	// Offset is the byte offset of a syntax error in the input, -1 otherwise.
	Offset int
}

// Error renders `path: reason`, `offset N: reason` for syntax errors, or the
// bare reason for errors about the whole event.
func (e *ValidationError) Error() string {
	switch {
	case e.Path != "":
		return e.Path + ": " + e.Reason
	case e.Offset >= 0:
		return "offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
	default:
		return e.Reason
	}
}

// Is makes errors.Is(err, ErrInvalidEvent) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidEvent }

// fail builds a field error. It is the only constructor on the error path, so
// the success path never allocates an error.
func fail(path string, kind Kind, reason string) *ValidationError {
	return &ValidationError{Path: path, Reason: reason, Kind: kind, Offset: -1}
}

// syntaxError builds an error at a byte offset of the input.
func syntaxError(offset int, reason string) *ValidationError {
	return &ValidationError{Reason: reason, Kind: KindSyntax, Offset: offset}
}

// maxQuoted bounds how much of an offending value an error repeats: enough
// to recognise it, never a 64 KiB comment in a log line.
const maxQuoted = 64

// quote renders a value for an error message: Go-quoted, cut at maxQuoted
// bytes on a rune boundary.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// quoteChar renders one input byte as encoding/json does in its syntax
// errors: '}' or '\n' or '\x00'.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.QuoteRune(rune(c))
	if c >= utf8.RuneSelf {
		q = `'\x` + strconv.FormatUint(uint64(c), 16) + `'`
	}
	return q
}

// join builds a child path: join("user", "id") is "user.id".
func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// keyPath is the path of an object member whose key came from the input (an
// unknown field, a label): plain keys read as `labels.region`, anything else
// is quoted, `labels["a.b c"]`, so a path never misleads.
func keyPath(parent, key string) string {
	if key != "" && len(key) <= maxQuoted && plainKey(key) {
		return join(parent, key)
	}
	return parent + "[" + quote(key) + "]"
}

func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// indexPath is the path of an array element's field: changes[3].old.
func indexPath(array string, i int, field string) string {
	var b strings.Builder
	b.WriteString(array)
	b.WriteByte('[')
	b.WriteString(strconv.Itoa(i))
	b.WriteByte(']')
	if field != "" {
		b.WriteByte('.')
		b.WriteString(field)
	}
	return b.String()
}
