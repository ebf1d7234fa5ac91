package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Object is one JSON object read by field name. Its accessors tell "absent"
// (or null) from "present", and refuse a value of the wrong JSON type with an
// error naming the field's full path, so a vendor changing a field's type is
// caught rather than silently mapped.
type Object struct {
	fields map[string]json.RawMessage
	prefix string // path of this object inside the record, "" at the top, else "data.payload."
}

// ParseObject parses one record that must be a JSON object in valid UTF-8.
func ParseObject(data []byte) (Object, error) {
	if !utf8.Valid(data) {
		return Object{}, fmt.Errorf("record is not valid UTF-8 (first bad byte at offset %d)", firstInvalidUTF8(data))
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return Object{}, fmt.Errorf("record is empty")
	}
	if trimmed[0] != '{' {
		return Object{}, fmt.Errorf("record is a JSON %s, want an object", kindOf(trimmed))
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v) // for the decoder's message: where and why
		return Object{}, fmt.Errorf("record is not valid JSON: %w", err)
	}
	m, err := splitObject(data)
	if err != nil {
		return Object{}, fmt.Errorf("record is not valid JSON: %w", err)
	}
	return Object{fields: m}, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// kindOf names the JSON type of a raw value by its first byte.
func kindOf(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// Path is the full path of a field of this object, for error messages.
func (o Object) Path(key string) string { return o.prefix + key }

// Keys returns the object's field names, sorted.
func (o Object) Keys() []string {
	keys := make([]string, 0, len(o.fields))
	for k := range o.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Len is the number of fields.
func (o Object) Len() int { return len(o.fields) }

// Raw returns a field's raw JSON and whether it is present and not null.
func (o Object) Raw(key string) (json.RawMessage, bool) {
	raw, ok := o.fields[key]
	if !ok || isNull(raw) {
		return nil, false
	}
	return raw, true
}

// Has reports whether a field is present and not null.
func (o Object) Has(key string) bool {
	_, ok := o.Raw(key)
	return ok
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// TypeError builds the error for a field holding the wrong JSON type.
func (o Object) TypeError(key, want string, raw json.RawMessage) error {
	return fmt.Errorf("%s: want %s, got %s %s", o.Path(key), want, kindOf(raw), Clip(string(bytes.TrimSpace(raw))))
}

// String returns a string field; absent or null gives "".
func (o Object) String(key string) (string, error) {
	raw, ok := o.Raw(key)
	if !ok {
		return "", nil
	}
	if kindOf(raw) != "string" {
		return "", o.TypeError(key, "a string", raw)
	}
	s, err := unquote(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", o.Path(key), err)
	}
	return s, nil
}

// unquote decodes a JSON string literal. The record was checked as valid
// JSON in valid UTF-8 when parsed, so a literal without escapes is its own
// content; only escaped literals go through the decoder.
func unquote(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// RequiredString returns a string field that must be present and non-empty.
func (o Object) RequiredString(key string) (string, error) {
	s, err := o.String(key)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", o.Missing(key)
	}
	return s, nil
}

// Missing builds the error for an absent required field.
func (o Object) Missing(key string) error {
	return fmt.Errorf("%s: missing (required)", o.Path(key))
}

// Scalar returns a string, number or boolean field as text: strings as they
// are, numbers as their JSON text, booleans as "true"/"false". It refuses
// objects and arrays. Absent or null gives "", false.
func (o Object) Scalar(key string) (string, bool, error) {
	raw, ok := o.Raw(key)
	if !ok {
		return "", false, nil
	}
	s, err := ScalarText(raw)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", o.Path(key), err)
	}
	return s, true, nil
}

// ScalarText renders a raw JSON scalar as text (see Object.Scalar).
func ScalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch kindOf(raw) {
	case "string":
		return unquote(raw)
	case "number", "boolean":
		return string(raw), nil
	case "null":
		return "", nil
	}
	return "", fmt.Errorf("want a string, number or boolean, got %s", kindOf(raw))
}

// Int returns an integer field. It accepts a JSON number with no fractional
// part (vendors send counts as doubles: 5000.0) or a string of digits
// (Salesforce documents some counts as strings). Absent or null gives ok=false.
func (o Object) Int(key string) (n int64, ok bool, err error) {
	raw, ok := o.Raw(key)
	if !ok {
		return 0, false, nil
	}
	text := string(bytes.TrimSpace(raw))
	switch kindOf(raw) {
	case "number":
	case "string":
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, false, fmt.Errorf("%s: %w", o.Path(key), err)
		}
		text = strings.TrimSpace(text)
	default:
		return 0, false, o.TypeError(key, "an integer", raw)
	}
	n, err = ParseInteger(text)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %s is not an integer", o.Path(key), Quote(text))
	}
	return n, true, nil
}

// ParseInteger parses decimal integer text, also in the forms 5000.0 and
// 5e3, refusing fractions and values beyond ±2^53 (where a JSON double stops
// being exact).
func ParseInteger(text string) (int64, error) {
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not an integer")
	}
	return int64(f), nil
}

// Float returns a number field. Absent or null gives ok=false.
func (o Object) Float(key string) (f float64, ok bool, err error) {
	raw, ok := o.Raw(key)
	if !ok {
		return 0, false, nil
	}
	if kindOf(raw) != "number" {
		return 0, false, o.TypeError(key, "a number", raw)
	}
	f, err = strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("%s: %s is not a finite number", o.Path(key), Quote(string(raw)))
	}
	return f, true, nil
}

// Bool returns a boolean field. Absent or null gives ok=false.
func (o Object) Bool(key string) (b, ok bool, err error) {
	raw, ok := o.Raw(key)
	if !ok {
		return false, false, nil
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, o.TypeError(key, "a boolean", raw)
}

// Object returns a nested object field. Absent or null gives ok=false.
func (o Object) Object(key string) (Object, bool, error) {
	raw, ok := o.Raw(key)
	if !ok {
		return Object{}, false, nil
	}
	if kindOf(raw) != "object" {
		return Object{}, false, o.TypeError(key, "an object", raw)
	}
	m, err := splitObject(raw) // raw was validated with the whole record
	if err != nil {
		return Object{}, false, fmt.Errorf("%s: %w", o.Path(key), err)
	}
	return Object{fields: m, prefix: o.Path(key) + "."}, true, nil
}

// RequiredObject returns a nested object that must be present.
func (o Object) RequiredObject(key string) (Object, error) {
	sub, ok, err := o.Object(key)
	if err != nil {
		return Object{}, err
	}
	if !ok {
		return Object{}, o.Missing(key)
	}
	return sub, nil
}

// avroPrimitives are the branch names of Avro's JSON encoding of a union.
var avroPrimitives = map[string]bool{"string": true, "long": true, "int": true, "double": true, "float": true, "boolean": true, "bytes": true}

// UnwrapAvroUnions returns a copy of o in which every field whose value is an
// Avro JSON-encoded union branch ({"string": "x"}, {"long": 5}) holds the
// branch's value instead. Pub/Sub API clients that render decoded Avro with
// the Avro JSON encoding produce these wrappers for every nillable field.
func (o Object) UnwrapAvroUnions() Object {
	out := Object{fields: make(map[string]json.RawMessage, len(o.fields)), prefix: o.prefix}
	for k, raw := range o.fields {
		out.fields[k] = raw
		if kindOf(raw) != "object" {
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || len(m) != 1 {
			continue
		}
		for branch, v := range m {
			if avroPrimitives[branch] {
				out.fields[k] = v
			}
		}
	}
	return out
}

// Clip cuts raw JSON text to 60 bytes for an error message.
func Clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Quote renders a value for an error message: quoted, and cut to 60 bytes
// so one huge field cannot flood a log line.
func Quote(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
