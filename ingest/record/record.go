package record

import (
	"errors"
	"fmt"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Kind says how a format's records are framed.
type Kind int

const (
	// JSON records are one JSON object each (one NDJSON line, one array element).
	JSON Kind = iota + 1
	// CSV records are one row of a CSV file with a header row.
	CSV
)

func (k Kind) String() string {
	switch k {
	case JSON:
		return "json"
	case CSV:
		return "csv"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Record is one vendor input record. Exactly one of Data (JSON formats) and
// Row (CSV formats) is set. Line is where it started in its source (1-based;
// 0 when unknown), for error messages only: it never changes the event.
type Record struct {
	Data []byte
	Row  *Row
	Line int
}

// Meta is what a record does not say about itself: the Trailwatch tenant it
// belongs to and the collector instance that forwarded it. Both come from
// configuration; a normaliser never invents a tenant.
type Meta struct {
	Tenant    string
	Collector string
}

// Validate reports a Meta a normaliser cannot use.
func (m Meta) Validate() error {
	if m.Tenant == "" {
		return ErrNoTenant
	}
	return nil
}

// ErrNoTenant is returned when a record is normalised without a tenant.
var ErrNoTenant = errors.New("no tenant configured: vendor records carry none, so the collector or --tenant must give it")

// Normalizer maps one vendor record to one canonical event. Implementations
// are safe for concurrent use and never panic on any input; an error says
// what is wrong and where in the record (field name or column).
type Normalizer interface {
	// Format is the registry name, the value of `--format`.
	Format() string
	// Kind says whether records are JSON objects or CSV rows.
	Kind() Kind
	// Normalize maps one record; rec.Data or rec.Row must match Kind.
	Normalize(rec Record, meta Meta) (event.Event, error)
}

// JSONFunc maps one parsed JSON object.
type JSONFunc func(obj Object, meta Meta) (event.Event, error)

// RowFunc maps one CSV row.
type RowFunc func(row *Row, meta Meta) (event.Event, error)

// NewJSON returns a Normalizer for a JSON format: it checks the record is
// valid UTF-8 and one JSON object, then calls fn.
func NewJSON(format string, fn JSONFunc) Normalizer { return jsonNormalizer{format, fn} }

// NewCSV returns a Normalizer for a CSV format.
func NewCSV(format string, fn RowFunc) Normalizer { return csvNormalizer{format, fn} }

type jsonNormalizer struct {
	format string
	fn     JSONFunc
}

func (n jsonNormalizer) Format() string { return n.format }
func (n jsonNormalizer) Kind() Kind     { return JSON }
func (n jsonNormalizer) Normalize(rec Record, meta Meta) (event.Event, error) {
	if err := meta.Validate(); err != nil {
		return event.Event{}, err
	}
	if rec.Row != nil || rec.Data == nil {
		return event.Event{}, fmt.Errorf("format %s reads JSON records, not CSV rows", n.format)
	}
	obj, err := ParseObject(rec.Data)
	if err != nil {
		return event.Event{}, err
	}
	return n.fn(obj, meta)
}

type csvNormalizer struct {
	format string
	fn     RowFunc
}

func (n csvNormalizer) Format() string { return n.format }
func (n csvNormalizer) Kind() Kind     { return CSV }
func (n csvNormalizer) Normalize(rec Record, meta Meta) (event.Event, error) {
	if err := meta.Validate(); err != nil {
		return event.Event{}, err
	}
	if rec.Row == nil {
		return event.Event{}, fmt.Errorf("format %s reads CSV rows with a header, not JSON records", n.format)
	}
	return n.fn(rec.Row, meta)
}
