package normalize

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Reject is one record that did not become an event.
type Reject struct {
	Line int    // where the record starts in the input (1-based)
	Raw  []byte // the record's bytes for JSON formats (a copy); nil for CSV rows
	Err  error  // what is wrong and where
}

func (r Reject) Error() string { return fmt.Sprintf("line %d: %v", r.Line, r.Err) }

// Sink receives what Run produces. Accept gets each valid event with its
// input line and its canonical JSON encoding (valid until Accept returns);
// Reject each record that failed. A non-nil error from either stops Run.
type Sink interface {
	Accept(line int, ev *event.Event, encoded []byte) error
	Reject(r Reject) error
}

// Result counts what Run did.
type Result struct {
	Accepted, Rejected int
}

// Run reads records from in, framed as the normaliser's Kind says (NDJSON
// lines or CSV with a header row), normalises each, validates it against the
// contract with opts (limits and time window: event.DefaultOptions on the
// live path, MaxAge 0 to accept any age), and hands it to sink. A bad record
// never stops the run; only an unreadable input, a sink error or ctx does.
// It is the code path of `trailwatch normalize`; the collectors call
// Normalize record by record.
func Run(ctx context.Context, in io.Reader, n record.Normalizer, meta record.Meta, opts event.Options, sink Sink) (Result, error) {
	if err := meta.Validate(); err != nil {
		return Result{}, err
	}
	var res Result
	var buf []byte
	handle := func(rec record.Record) error {
		ev, err := Normalize(n, rec, meta, opts)
		if err != nil {
			res.Rejected++
			raw := []byte(nil)
			if rec.Data != nil {
				raw = append([]byte(nil), rec.Data...)
			}
			return sink.Reject(Reject{Line: rec.Line, Raw: raw, Err: err})
		}
		res.Accepted++
		buf = event.AppendJSON(buf[:0], &ev)
		return sink.Accept(rec.Line, &ev, buf)
	}
	reject := func(le *record.LineError) error {
		res.Rejected++
		return sink.Reject(Reject{Line: le.Line, Err: le.Err})
	}
	switch n.Kind() {
	case record.JSON:
		lr := record.NewLineReader(in, 0)
		for {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			data, line, err := lr.Next()
			var le *record.LineError
			switch {
			case err == io.EOF:
				return res, nil
			case errors.As(err, &le):
				err = reject(le)
			case err != nil:
				return res, err
			default:
				err = handle(record.Record{Data: data, Line: line})
			}
			if err != nil {
				return res, err
			}
		}
	case record.CSV:
		cr, err := record.NewCSVReader(in)
		if err != nil {
			return res, err
		}
		for {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			row, err := cr.Next()
			var le *record.LineError
			switch {
			case err == io.EOF:
				return res, nil
			case errors.As(err, &le):
				err = reject(le)
			case err != nil:
				return res, err
			default:
				err = handle(record.Record{Row: row, Line: row.Line})
			}
			if err != nil {
				return res, err
			}
		}
	}
	return res, fmt.Errorf("format %s has no record framing", n.Format())
}

// Normalize maps one record and checks the result against the contract
// with opts (event.Validate: every rule, the encoded size and the time
// window), so no caller hands on an event the contract refuses. A contract
// failure wraps the *event.ValidationError, whose Kind callers count by.
func Normalize(n record.Normalizer, rec record.Record, meta record.Meta, opts event.Options) (event.Event, error) {
	ev, err := n.Normalize(rec, meta)
	if err != nil {
		return event.Event{}, err
	}
	if err := event.Validate(&ev, opts); err != nil {
		return event.Event{}, fmt.Errorf("the mapped event breaks the contract: %w", err)
	}
	return ev, nil
}
