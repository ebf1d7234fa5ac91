package compliance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/respond/adapter/dynamics"
)

// DynamicsRecords applies rollback writes to a Dataverse (Dynamics 365)
// environment. The trail's object types are table logical names (contact,
// account, opportunity, new_project) and its field names column logical
// names, lookups by their logical name (parentcustomerid, not
// _parentcustomerid_value), as the Dynamics normaliser stores them. The
// entity set (contacts, opportunities, new_projects) and each column's type
// come from the environment's table definition, read once per table, so
// custom tables need no configuration.
//
// The trail holds values as text; a write is typed by its column: strings,
// memos, date-times and GUIDs as JSON strings, whole numbers and choices
// (Picklist, State, Status) as integers, Decimal, Double and Money as
// numbers, Boolean as true or false, an empty value as null. Lookups
// (Lookup, Customer, Owner) would need <navigation property>@odata.bind
// naming the target table, and multi-select choices, files and images other
// requests: those writes, and writes to columns that are not valid for
// update, are refused with an error naming the column, never sent. Each
// update carries If-Match with the ETag of the read just before it, so a
// row changed between the read and the write is not overwritten (412), and
// a deleted row is never re-created.
type DynamicsRecords struct {
	Client *dynamics.Client

	mu    sync.Mutex
	etags map[string]string // "contacts(<id>)" → @odata.etag of the last read
}

// NewDynamicsRecords returns a RecordStore over c.
func NewDynamicsRecords(c *dynamics.Client) *DynamicsRecords { return &DynamicsRecords{Client: c} }

// ErrNotWritable is wrapped by the errors of writes DynamicsRecords
// refuses to send (lookups, read-only and unsupported columns).
var ErrNotWritable = fmt.Errorf("column cannot be restored through record updates")

func (d *DynamicsRecords) column(ctx context.Context, table, field string) (dynamics.Table, dynamics.Column, error) {
	t, err := d.Client.Table(ctx, table)
	if err != nil {
		return t, dynamics.Column{}, err
	}
	name := field
	if inner, ok := strings.CutPrefix(field, "_"); ok {
		if inner, ok = strings.CutSuffix(inner, "_value"); ok {
			name = inner // a lookup property given as such
		}
	}
	c, ok := t.Columns[name]
	if !ok {
		return t, c, fmt.Errorf("table %s has no column %s", table, field)
	}
	return t, c, nil
}

// CheckWrite implements FieldChecker: it refuses fields that cannot be
// written and returns value in the form Fields reports.
func (d *DynamicsRecords) CheckWrite(ctx context.Context, objectType, field, value string) (string, error) {
	raw, err := d.value(ctx, objectType, field, value)
	if err != nil {
		return "", err
	}
	s := text(raw)
	if s == nil {
		return "", nil
	}
	return *s, nil
}

// value is the JSON to write to a column, or why it cannot be written.
func (d *DynamicsRecords) value(ctx context.Context, objectType, field, value string) (json.RawMessage, error) {
	_, c, err := d.column(ctx, objectType, field)
	if err != nil {
		return nil, err
	}
	switch {
	case c.IsLookup():
		return nil, fmt.Errorf("%s.%s is a %s column: %w (it needs %s@odata.bind to the target table; restore it by hand to %q)",
			objectType, c.LogicalName, c.Type, ErrNotWritable, c.LogicalName, value)
	case !c.Updatable:
		return nil, fmt.Errorf("%s.%s is not valid for update: %w", objectType, c.LogicalName, ErrNotWritable)
	}
	raw, err := typed(c, value)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", objectType, c.LogicalName, err)
	}
	return raw, nil
}

// Fields implements RecordStore.
func (d *DynamicsRecords) Fields(ctx context.Context, objectType, id string, fields []string) (map[string]*string, error) {
	t, err := d.Client.Table(ctx, objectType)
	if err != nil {
		return nil, err
	}
	props := make([]string, len(fields))
	for i, f := range fields {
		_, c, err := d.column(ctx, objectType, f)
		if err != nil {
			return nil, err
		}
		props[i] = c.Property()
	}
	row, err := d.Client.Row(ctx, t.EntitySetName, id, props)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.etags == nil {
		d.etags = map[string]string{}
	}
	d.etags[t.EntitySetName+"("+strings.ToLower(id)+")"] = row.ETag
	d.mu.Unlock()
	out := make(map[string]*string, len(fields))
	for i, f := range fields {
		out[f] = text(row.Values[props[i]])
	}
	return out, nil
}

// Update implements RecordStore: one PATCH, conditional on the ETag of the
// last Fields of the same row (If-Match: * when there was none), so an
// update after a later change to the row fails with 412.
func (d *DynamicsRecords) Update(ctx context.Context, objectType, id string, values map[string]*string) error {
	t, err := d.Client.Table(ctx, objectType)
	if err != nil {
		return err
	}
	body := make(map[string]json.RawMessage, len(values))
	for f, v := range values {
		s := ""
		if v != nil {
			s = *v
		}
		raw, err := d.value(ctx, objectType, f, s)
		if err != nil {
			return err
		}
		_, c, _ := d.column(ctx, objectType, f) // known: value found it
		body[c.LogicalName] = raw
	}
	key := t.EntitySetName + "(" + strings.ToLower(id) + ")"
	d.mu.Lock()
	etag := d.etags[key] // kept: a retried update stays conditional on the same read
	d.mu.Unlock()
	return d.Client.UpdateRow(ctx, t.EntitySetName, id, etag, body)
}

var (
	integer = regexp.MustCompile(`^[+-]?[0-9]+$`)
	decimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
)

// typed is the JSON value of the trail's text for a column; "" is null.
func typed(c dynamics.Column, v string) (json.RawMessage, error) {
	if v == "" {
		return json.RawMessage("null"), nil
	}
	switch c.Type {
	case "String", "Memo", "EntityName", "Uniqueidentifier", "DateTime":
		if !utf8.ValidString(v) {
			// JSON would carry U+FFFD instead: not the value to restore.
			return nil, fmt.Errorf("%q is not valid UTF-8", v)
		}
		return json.Marshal(v)
	case "Integer", "BigInt", "Picklist", "State", "Status":
		if !integer.MatchString(v) {
			return nil, fmt.Errorf("%q is not a whole number, as a %s column needs", v, c.Type)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is out of range for a %s column", v, c.Type)
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), nil
	case "Decimal", "Double", "Money":
		n, ok := canonNumber(v)
		if !ok {
			return nil, fmt.Errorf("%q is not a number, as a %s column needs", v, c.Type)
		}
		return json.RawMessage(n), nil
	case "Boolean":
		if v != "true" && v != "false" {
			return nil, fmt.Errorf("%q is not true or false, as a Boolean column needs", v)
		}
		return json.RawMessage(v), nil
	}
	return nil, fmt.Errorf("%s columns are not supported: %w", c.Type, ErrNotWritable)
}

// text renders a Web API value as the trail does: strings as they are,
// numbers in one canonical form (100.0000 is 100), booleans as true or
// false, objects and arrays as compact JSON, null as nil.
func text(raw json.RawMessage) *string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	switch {
	case raw[0] == '"':
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		if n, ok := canonNumber(string(raw)); ok {
			s = n
		} else {
			s = string(raw)
		}
	case raw[0] == '{' || raw[0] == '[':
		var b bytes.Buffer
		if json.Compact(&b, raw) != nil {
			b.Reset()
			b.Write(raw)
		}
		s = b.String()
	default:
		s = string(raw)
	}
	return &s
}

// canonNumber writes a decimal number without exponent, trailing
// fractional zeros or a leading +; it reports false for text that is not a
// number or has an exponent beyond ±400, which no column holds.
func canonNumber(v string) (string, bool) {
	if !decimal.MatchString(v) {
		return "", false
	}
	if i := strings.IndexAny(v, "eE"); i >= 0 {
		// big.Rat would build 10^exp, however large.
		if exp, err := strconv.Atoi(v[i+1:]); err != nil || exp > 400 || exp < -400 {
			return "", false
		}
	}
	r, ok := new(big.Rat).SetString(strings.TrimPrefix(v, "+"))
	if !ok {
		return "", false
	}
	if r.IsInt() {
		return r.Num().String(), true
	}
	// A decimal fraction's denominator is 2^a·5^b: max(a, b) digits are
	// exact. Bound them so a hostile exponent cannot ask for millions.
	s := r.FloatString(min(r.Denom().BitLen()+1, 400))
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, "."), true
}
