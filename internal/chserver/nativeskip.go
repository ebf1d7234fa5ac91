package chserver

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// This file walks the data of a Native block column by column, as the
// engine writes it (protocol revision 0: default serializations, no sparse
// columns), so that the block headers around the data can be found and
// rewritten (native.go). It knows the layouts of the types a result
// usually has; for the rest (Dynamic, JSON, AggregateFunction, …) it says
// so, and the caller leaves the stream as it is.

// errShort means the buffer ends inside the column: read more and retry.
var errShort = errors.New("native: need more data")

// errUnsupported means the walker does not know a type's layout.
var errUnsupported = errors.New("native: unsupported type layout")

// chType is a parsed type name: Name(args…).
type chType struct {
	name string
	args []*chType
	raw  string // the argument's text, for parameters such as FixedString(16)
}

// parseType parses a ClickHouse type name. Named tuple elements
// ("field String") keep only their type.
func parseType(s string) *chType {
	s = strings.TrimSpace(s)
	t := &chType{raw: s}
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		t.name = s
		if i := strings.LastIndexByte(s, ' '); i >= 0 && !strings.ContainsAny(s, "'") {
			t.name = s[i+1:] // a named tuple element
		}
		return t
	}
	head := s[:open]
	if i := strings.LastIndexByte(head, ' '); i >= 0 {
		head = head[i+1:] // "field Array(String)"
	}
	t.name = head
	for _, a := range splitTopLevel(s[open+1 : len(s)-1]) {
		t.args = append(t.args, parseType(a))
	}
	return t
}

// splitTopLevel splits on commas outside parentheses and quotes.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '`' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// fixedSize is the byte width of a fixed-size type, or 0.
func (t *chType) fixedSize() int {
	switch t.name {
	case "Int8", "UInt8", "Bool", "Enum8", "Nothing":
		return 1
	case "Int16", "UInt16", "Date", "Enum16", "BFloat16":
		return 2
	case "Int32", "UInt32", "Float32", "Date32", "DateTime", "IPv4", "Decimal32", "Time":
		return 4
	case "Int64", "UInt64", "Float64", "DateTime64", "Decimal64", "Time64":
		return 8
	case "Int128", "UInt128", "Decimal128", "IPv6", "UUID":
		return 16
	case "Int256", "UInt256", "Decimal256":
		return 32
	case "FixedString":
		if len(t.args) == 1 {
			n, _ := strconv.Atoi(strings.TrimSpace(t.args[0].raw))
			return n
		}
	case "Decimal":
		if len(t.args) >= 1 {
			p, _ := strconv.Atoi(strings.TrimSpace(t.args[0].raw))
			switch {
			case p <= 9:
				return 4
			case p <= 18:
				return 8
			case p <= 38:
				return 16
			case p <= 76:
				return 32
			}
		}
	}
	if strings.HasPrefix(t.name, "Interval") {
		return 8
	}
	return 0
}

// normalize rewrites aliases to the types they are stored as.
func (t *chType) normalize() *chType {
	switch t.name {
	case "Map":
		if len(t.args) == 2 {
			return &chType{name: "Array", args: []*chType{{name: "Tuple", args: t.args}}}
		}
	case "Nested":
		return &chType{name: "Array", args: []*chType{{name: "Tuple", args: t.args}}}
	case "SimpleAggregateFunction":
		if len(t.args) == 2 {
			return t.args[1].normalize()
		}
	case "Point":
		f := &chType{name: "Float64"}
		return &chType{name: "Tuple", args: []*chType{f, f}}
	case "Ring", "LineString":
		return &chType{name: "Array", args: []*chType{{name: "Point"}}}
	case "Polygon", "MultiLineString":
		return &chType{name: "Array", args: []*chType{{name: "Ring"}}}
	case "MultiPolygon":
		return &chType{name: "Array", args: []*chType{{name: "Polygon"}}}
	}
	return t
}

// walker reads through a buffer.
type walker struct {
	b   []byte
	pos int
}

func (w *walker) need(n int) error {
	if n < 0 || w.pos+n > len(w.b) {
		return errShort
	}
	return nil
}

func (w *walker) skip(n int) error {
	if err := w.need(n); err != nil {
		return err
	}
	w.pos += n
	return nil
}

func (w *walker) u64() (uint64, error) {
	if err := w.need(8); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(w.b[w.pos:])
	w.pos += 8
	return v, nil
}

func (w *walker) uvarint() (uint64, error) {
	v, n := binary.Uvarint(w.b[w.pos:])
	if n == 0 {
		return 0, errShort
	}
	if n < 0 {
		return 0, errors.New("native: bad varint")
	}
	w.pos += n
	return v, nil
}

func (w *walker) str() (string, error) {
	n, err := w.uvarint()
	if err != nil {
		return "", err
	}
	if n > 1<<30 {
		return "", errors.New("native: string too long")
	}
	if err := w.need(int(n)); err != nil {
		return "", err
	}
	s := string(w.b[w.pos : w.pos+int(n)])
	w.pos += int(n)
	return s, nil
}

// prefix skips a column's serialization state prefix, which the engine
// writes for the whole type tree before the data.
func (w *walker) prefix(t *chType) error {
	t = t.normalize()
	switch t.name {
	case "LowCardinality":
		return w.skip(8) // key serialization version
	case "Variant":
		mode, err := w.u64()
		if err != nil {
			return err
		}
		if mode != 0 {
			return errUnsupported // compact discriminators
		}
		for _, a := range t.args {
			if err := w.prefix(a); err != nil {
				return err
			}
		}
	case "Nullable", "Array":
		if len(t.args) == 1 {
			return w.prefix(t.args[0])
		}
	case "Tuple":
		for _, a := range t.args {
			if err := w.prefix(a); err != nil {
				return err
			}
		}
	case "Dynamic", "JSON", "Object", "AggregateFunction", "QBit":
		return errUnsupported
	}
	return nil
}

// data skips rows values of type t.
func (w *walker) data(t *chType, rows uint64) error {
	t = t.normalize()
	if n := t.fixedSize(); n > 0 {
		if rows > uint64(len(w.b)) {
			return errShort
		}
		return w.skip(int(rows) * n)
	}
	switch t.name {
	case "String":
		for range rows {
			n, err := w.uvarint()
			if err != nil {
				return err
			}
			if n > uint64(len(w.b)) {
				return errShort
			}
			if err := w.skip(int(n)); err != nil {
				return err
			}
		}
		return nil
	case "Nullable":
		if len(t.args) != 1 || rows > uint64(len(w.b)) {
			return errShortOr(len(t.args) == 1)
		}
		if err := w.skip(int(rows)); err != nil {
			return err
		}
		return w.data(t.args[0], rows)
	case "Array":
		if len(t.args) != 1 || rows > uint64(len(w.b)) {
			return errShortOr(len(t.args) == 1)
		}
		if rows == 0 {
			return w.data(t.args[0], 0)
		}
		if err := w.skip(int(rows-1) * 8); err != nil {
			return err
		}
		total, err := w.u64()
		if err != nil {
			return err
		}
		return w.data(t.args[0], total)
	case "Tuple":
		for _, a := range t.args {
			if err := w.data(a, rows); err != nil {
				return err
			}
		}
		return nil
	case "LowCardinality":
		return w.lowCardinality(t, rows)
	case "Variant":
		return w.variant(t, rows)
	}
	return errUnsupported
}

func errShortOr(ok bool) error {
	if ok {
		return errShort
	}
	return errUnsupported
}

// lowCardinality skips granules of (flags, dictionary keys, indexes) until
// rows indexes have been read.
func (w *walker) lowCardinality(t *chType, rows uint64) error {
	if len(t.args) != 1 {
		return errUnsupported
	}
	dict := t.args[0].normalize()
	if dict.name == "Nullable" && len(dict.args) == 1 {
		dict = dict.args[0] // the dictionary holds the nested type
	}
	for rows > 0 {
		flags, err := w.u64()
		if err != nil {
			return err
		}
		width := [4]int{1, 2, 4, 8}[flags&3]
		if flags&(1<<9) != 0 { // additional keys
			keys, err := w.u64()
			if err != nil {
				return err
			}
			if err := w.data(dict, keys); err != nil {
				return err
			}
		}
		n, err := w.u64()
		if err != nil {
			return err
		}
		if n > rows || n > uint64(len(w.b)) {
			return errors.New("native: low cardinality index count out of range")
		}
		if err := w.skip(int(n) * width); err != nil {
			return err
		}
		rows -= n
	}
	return nil
}

// variant skips the discriminators (basic mode), then each variant's rows.
func (w *walker) variant(t *chType, rows uint64) error {
	if err := w.need(int(min(rows, uint64(len(w.b)+1)))); err != nil {
		return err
	}
	counts := make([]uint64, len(t.args))
	for _, d := range w.b[w.pos : w.pos+int(rows)] {
		if d == 255 {
			continue // NULL
		}
		if int(d) >= len(counts) {
			return errors.New("native: variant discriminator out of range")
		}
		counts[d]++
	}
	w.pos += int(rows)
	for i, a := range t.args {
		if err := w.data(a, counts[i]); err != nil {
			return err
		}
	}
	return nil
}
