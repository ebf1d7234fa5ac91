package filein

import (
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/trailwatch/trailwatch/ingest/record"
)

// position is where reading resumes in a file: the byte offset just past
// the last record handled, and the lines before it (for line numbers).
type position struct {
	Offset int64 `json:"offset"`
	Line   int   `json:"line"`
}

// records cuts one input into records from a position on.
type records interface {
	// next returns the next record with its raw bytes and line, io.EOF at
	// the end, a *record.LineError for a record that cannot be cut (a
	// reject; reading goes on), or another error when the input fails.
	next() (rec record.Record, raw []byte, line int, err error)
	// pos is the position just past the last record next returned.
	pos() position
}

type lineRecords struct{ lr *record.LineReader }

func (l lineRecords) next() (record.Record, []byte, int, error) {
	data, line, err := l.lr.Next()
	if err != nil {
		return record.Record{}, nil, line, err
	}
	return record.Record{Data: data, Line: line}, data, line, nil
}

func (l lineRecords) pos() position { return position{Offset: l.lr.Offset(), Line: l.lr.Lines()} }

type csvRecords struct{ cr *record.CSVReader }

func (c csvRecords) next() (record.Record, []byte, int, error) {
	row, err := c.cr.Next()
	if err != nil {
		var le *record.LineError
		if errors.As(err, &le) {
			return record.Record{}, c.cr.Raw(), le.Line, err
		}
		return record.Record{}, nil, 0, err
	}
	return record.Record{Row: row, Line: row.Line}, c.cr.Raw(), row.Line, nil
}

func (c csvRecords) pos() position { return position{Offset: c.cr.Offset(), Line: c.cr.Lines()} }

// openRecords reads r, which starts at position at of its file, as kind.
// A CSV file read from its start has its header read here; one resumed
// further on needs header, read before from the file's start (readHeader).
func openRecords(kind record.Kind, r io.Reader, at position, header *record.Header) (records, *record.Header, error) {
	if kind == record.JSON {
		lr := record.NewLineReader(r, 0)
		lr.Resume(at.Line, at.Offset)
		return lineRecords{lr}, nil, nil
	}
	if at.Offset == 0 {
		cr, err := record.NewCSVReader(r)
		if err != nil {
			return nil, nil, err
		}
		return csvRecords{cr}, cr.Header(), nil
	}
	return csvRecords{record.NewCSVReaderAt(r, header, at.Line, at.Offset)}, header, nil
}

// readHeader reads the header row of the CSV file f.
func readHeader(f *os.File) (*record.Header, error) {
	cr, err := record.NewCSVReader(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, err
	}
	return cr.Header(), nil
}

// completeEnd returns the end of the complete records of f in [from, size):
// the offset just past the last line break that ends a record, or from
// when there is none. For NDJSON that is the last line break; for CSV the
// last one outside a quoted field (from starts a record, so counting quotes
// from there tells inside from outside: an escaped quote counts twice).
func completeEnd(f *os.File, kind record.Kind, from, size int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	if kind == record.JSON {
		for end := size; end > from; {
			start := max(from, end-chunk)
			n, err := f.ReadAt(buf[:end-start], start)
			if err != nil && err != io.EOF {
				return from, err
			}
			if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
				return start + int64(i) + 1, nil
			}
			end = start
		}
		return from, nil
	}
	last, inQuotes := from, false
	for off := from; off < size; {
		n, err := f.ReadAt(buf[:min(chunk, size-off)], off)
		if err != nil && err != io.EOF {
			return from, err
		}
		for i, c := range buf[:n] {
			switch {
			case c == '"':
				inQuotes = !inQuotes
			case c == '\n' && !inQuotes:
				last = off + int64(i) + 1
			}
		}
		if n == 0 {
			break
		}
		off += int64(n)
	}
	return last, nil
}
