package httpin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/trailwatch/trailwatch/ingest/record"
)

// limitError is a request over one of the limits: answered 413, naming it.
type limitError struct {
	Setting string // the configuration setting, e.g. max_body_bytes
	Limit   int64
	Line    int // the record over max_event_bytes: its line, or
	Index   int // its position (0-based)
	what    string
}

func (e *limitError) Error() string {
	where := ""
	if e.Line > 0 {
		where = fmt.Sprintf(" (line %d)", e.Line)
	} else if e.what == "record" {
		where = fmt.Sprintf(" (record %d)", e.Index)
	}
	return fmt.Sprintf("%s%s is over %s (%d)", e.what, where, e.Setting, e.Limit)
}

// bodyError is a body that cannot be cut into records at all: answered
// 400, and dead-lettered whole (it was authenticated).
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// limits are what framing enforces.
type limits struct {
	body    int64 // decompressed body
	events  int   // records per request
	record  int   // bytes per record
	setting string
}

// decompress returns body decoded per Content-Encoding ("" or "identity"
// as is, "gzip"), at most lim.body bytes of it. It returns an *encodingError
// for an encoding it does not speak.
func decompress(body []byte, encoding string, max int64) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
	default:
		return nil, &encodingError{encoding}
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, &bodyError{fmt.Errorf("gzip: %w", err)}
	}
	out, err := io.ReadAll(io.LimitReader(zr, max+1))
	if err != nil {
		return nil, &bodyError{fmt.Errorf("gzip: %w", err)}
	}
	if int64(len(out)) > max {
		return nil, &limitError{Setting: "max_body_bytes", Limit: max, what: "decompressed body"}
	}
	return out, nil
}

// encodingError is a Content-Encoding the collector does not speak (415).
type encodingError struct{ encoding string }

func (e *encodingError) Error() string {
	return fmt.Sprintf("Content-Encoding %q is not supported (send gzip or nothing)", e.encoding)
}

// body shapes.
const (
	shapeSingle = "single"
	shapeArray  = "array"
	shapeNDJSON = "ndjson"
	shapeCSV    = "csv"
)

// eachRecord cuts body into records and calls fn for each, with the
// record's bytes, its line (NDJSON and CSV; 0 otherwise) and its index.
// JSON bodies are one object, a JSON array of objects, or NDJSON: the
// Content-Type says which (application/json: one value, an object or an
// array; application/x-ndjson or application/jsonl: lines), or else the
// body does (a leading '[' is an array, one JSON value is one event, else
// lines). CSV formats take a CSV body with its header row. It stops with a
// *limitError before fn sees more than lim.events records or a record over
// lim.record bytes, so a request over a limit publishes nothing, or a
// *bodyError when the body cannot be cut at all. A record that is cut but
// bad (a line that is not JSON, a CSV row with a stray quote) is passed to
// fn with err set, to be refused on its own.
func eachRecord(body []byte, contentType string, kind record.Kind, lim limits, fn func(rec record.Record, raw []byte, line, index int, err error)) (string, error) {
	if kind == record.CSV {
		return shapeCSV, eachCSV(body, lim, fn)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return "", &bodyError{errors.New("the body holds no record")}
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-ndjson" || mt == "application/jsonl":
		return shapeNDJSON, eachLine(body, lim, fn)
	case trimmed[0] == '[':
		return shapeArray, eachElement(trimmed, lim, fn)
	case mt == "application/json" || singleValue(trimmed):
		if len(trimmed) > lim.record {
			return shapeSingle, &limitError{Setting: lim.setting, Limit: int64(lim.record), what: "record"}
		}
		if !json.Valid(trimmed) && mt == "application/json" {
			return shapeSingle, &bodyError{errors.New("the body is not one JSON value (send NDJSON as application/x-ndjson)")}
		}
		fn(record.Record{Data: trimmed}, trimmed, 0, 0, nil)
		return shapeSingle, nil
	}
	return shapeNDJSON, eachLine(body, lim, fn)
}

// singleValue reports whether b is exactly one JSON value: a pretty-printed
// event spans lines but is not NDJSON. (On NDJSON json.Valid stops at the
// second value, so the check costs one record's scan.)
func singleValue(b []byte) bool {
	return bytes.IndexByte(bytes.TrimRight(b, " \t\r\n"), '\n') < 0 || json.Valid(b)
}

// blank reports whether a line holds nothing but JSON whitespace. Not
// bytes.TrimSpace: it also trims Unicode spaces (U+00A0, U+0085, form
// feed, …), and a line of those was skipped without a word while the
// request was answered 200: input accepted and then lost. Such a line is
// refused on its own and dead-lettered instead.
func blank(line []byte) bool { return len(bytes.Trim(line, " \t\r")) == 0 }

func eachLine(body []byte, lim limits, fn func(record.Record, []byte, int, int, error)) error {
	// Count first, so that nothing is parsed (or published) when the
	// request is over the limit.
	n := 0
	for line, rest := 0, body; len(rest) > 0; {
		data, tail, _ := bytes.Cut(rest, []byte{'\n'})
		rest = tail
		line++
		data = bytes.TrimRight(data, "\r")
		if blank(data) {
			continue
		}
		if len(data) > lim.record {
			return &limitError{Setting: lim.setting, Limit: int64(lim.record), Line: line, what: "record"}
		}
		if n++; n > lim.events {
			return &limitError{Setting: "max_events", Limit: int64(lim.events), what: "number of records"}
		}
	}
	if n == 0 {
		return &bodyError{errors.New("the body holds no record (only blank lines)")}
	}
	index := 0
	for line, rest := 0, body; len(rest) > 0; {
		data, tail, _ := bytes.Cut(rest, []byte{'\n'})
		rest = tail
		line++
		data = bytes.TrimRight(data, "\r")
		if blank(data) {
			continue
		}
		fn(record.Record{Data: data, Line: line}, data, line, index, nil)
		index++
	}
	return nil
}

func eachElement(body []byte, lim limits, fn func(record.Record, []byte, int, int, error)) error {
	var elems []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&elems); err != nil {
		return &bodyError{fmt.Errorf("the body is not a JSON array of events: %w", err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &bodyError{errors.New("the body has data after its JSON array")}
	}
	if len(elems) > lim.events {
		return &limitError{Setting: "max_events", Limit: int64(lim.events), what: "number of records"}
	}
	if len(elems) == 0 {
		return &bodyError{errors.New("the body holds no record (an empty array)")}
	}
	for i, e := range elems {
		if len(e) > lim.record {
			return &limitError{Setting: lim.setting, Limit: int64(lim.record), Index: i, what: "record"}
		}
	}
	for i, e := range elems {
		fn(record.Record{Data: e}, e, 0, i, nil)
	}
	return nil
}

func eachCSV(body []byte, lim limits, fn func(record.Record, []byte, int, int, error)) error {
	type row struct {
		rec  record.Record
		raw  []byte
		line int
		err  error
	}
	cr, err := record.NewCSVReader(bytes.NewReader(body))
	if err != nil {
		return &bodyError{err}
	}
	var rows []row
	for {
		r, err := cr.Next()
		if err == io.EOF {
			break
		}
		raw := bytes.Clone(cr.Raw())
		if len(raw) > lim.record {
			return &limitError{Setting: lim.setting, Limit: int64(lim.record), Line: lineOf(r, err), what: "record"}
		}
		if len(rows) >= lim.events {
			return &limitError{Setting: "max_events", Limit: int64(lim.events), what: "number of records"}
		}
		var le *record.LineError
		switch {
		case errors.As(err, &le):
			rows = append(rows, row{raw: raw, line: le.Line, err: le})
		case err != nil:
			return &bodyError{err}
		default:
			rows = append(rows, row{rec: record.Record{Row: r, Line: r.Line}, raw: raw, line: r.Line})
		}
	}
	if len(rows) == 0 {
		return &bodyError{errors.New("the CSV body has a header but no row")}
	}
	for i, r := range rows {
		fn(r.rec, r.raw, r.line, i, r.err)
	}
	return nil
}

func lineOf(r *record.Row, err error) int {
	var le *record.LineError
	if errors.As(err, &le) {
		return le.Line
	}
	if r != nil {
		return r.Line
	}
	return 0
}
