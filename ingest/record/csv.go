package record

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Header is the header row of a CSV file: column names and their positions.
type Header struct {
	names []string
	index map[string]int
}

// NewHeader checks a header row: names must be non-empty, valid UTF-8 and
// unique (a duplicate would make reading by name ambiguous).
func NewHeader(names []string) (*Header, error) {
	if len(names) == 0 {
		return nil, errors.New("header row is empty")
	}
	h := &Header{names: make([]string, len(names)), index: make(map[string]int, len(names))}
	for i, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case !utf8.ValidString(n):
			return nil, fmt.Errorf("header column %d is not valid UTF-8", i+1)
		case n == "":
			return nil, fmt.Errorf("header column %d has no name", i+1)
		}
		if j, dup := h.index[n]; dup {
			return nil, fmt.Errorf("header names column %s twice (columns %d and %d)", n, j+1, i+1)
		}
		h.names[i] = n
		h.index[n] = i
	}
	return h, nil
}

// Names returns the column names in file order.
func (h *Header) Names() []string { return h.names }

// Has reports whether the header has a column.
func (h *Header) Has(name string) bool { _, ok := h.index[name]; return ok }

// Row is one CSV data row, read by column name.
type Row struct {
	header *Header
	values []string
	Line   int
}

// NewRow builds a row; values must have one entry per header column.
func NewRow(h *Header, values []string, line int) (*Row, error) {
	if len(values) != len(h.names) {
		return nil, fmt.Errorf("row has %d fields, the header has %d columns", len(values), len(h.names))
	}
	for i, v := range values {
		if !utf8.ValidString(v) {
			return nil, fmt.Errorf("column %s is not valid UTF-8", h.names[i])
		}
	}
	return &Row{header: h, values: values, Line: line}, nil
}

// Header is the row's header.
func (r *Row) Header() *Header { return r.header }

// Get returns a column's value and whether the header has that column.
func (r *Row) Get(name string) (string, bool) {
	i, ok := r.header.index[name]
	if !ok {
		return "", false
	}
	return r.values[i], true
}

// Value returns a column's value, "" when the column is absent.
func (r *Row) Value(name string) string { v, _ := r.Get(name); return v }

// Require returns a column that must exist and be non-empty.
func (r *Row) Require(name string) (string, error) {
	v, ok := r.Get(name)
	if !ok {
		return "", fmt.Errorf("missing column %s", name)
	}
	if v == "" {
		return "", fmt.Errorf("column %s is empty", name)
	}
	return v, nil
}

// Each calls fn for every column in header order.
func (r *Row) Each(fn func(name, value string)) {
	for i, n := range r.header.names {
		fn(n, r.values[i])
	}
}

// CanonicalBytes is the row as sorted name=value pairs, so the same row in a
// file whose columns come in another order hashes the same.
func (r *Row) CanonicalBytes() []byte {
	idx := make([]int, len(r.header.names))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return r.header.names[idx[a]] < r.header.names[idx[b]] })
	var b bytes.Buffer
	for _, i := range idx {
		writeLenPrefixed(&b, r.header.names[i])
		writeLenPrefixed(&b, r.values[i])
	}
	return b.Bytes()
}

// CSVReader reads a CSV file with a header row, one Row at a time, with the
// line number where each row starts. A malformed row is reported as a
// *LineError and reading goes on with the next one.
type CSVReader struct {
	r      *csv.Reader
	header *Header
	rec    *recorder
	bom    *bomSkipper
	lines  int   // lines before the reader's input began
	start  int64 // byte offset of the reader's input in the file
	raw    []byte
	nl     int // line breaks consumed
}

// NewCSVReader reads the header row. A UTF-8 byte-order mark before it is
// dropped (spreadsheet tools write one).
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	bom := &bomSkipper{r: r}
	c := newCSVReader(bom, nil, 0, 0)
	c.bom = bom
	names, err := c.r.Read()
	if err == io.EOF {
		return nil, errors.New("line 1: missing header row (the input is empty)")
	}
	c.keepRaw()
	if err != nil {
		return nil, fmt.Errorf("reading header row: %w", err)
	}
	h, err := NewHeader(names)
	if err != nil {
		return nil, &LineError{Line: 1, Err: err}
	}
	c.header = h
	return c, nil
}

// NewCSVReaderAt continues a CSV file whose header h was read before: r
// starts at byte offset of the file, at the start of a row, after lines
// lines. Row line numbers and Offset are the file's.
func NewCSVReaderAt(r io.Reader, h *Header, lines int, offset int64) *CSVReader {
	return newCSVReader(r, h, lines, offset)
}

func newCSVReader(r io.Reader, h *Header, lines int, offset int64) *CSVReader {
	rec := &recorder{r: r}
	cr := csv.NewReader(rec)
	cr.FieldsPerRecord = -1 // checked per row against the header, so a bad row is reported, not fatal
	cr.ReuseRecord = false
	return &CSVReader{r: cr, header: h, rec: rec, lines: lines, start: offset}
}

// Offset is the byte offset in the file just past the last record Next
// returned or reported (its line ending included): where to resume.
func (c *CSVReader) Offset() int64 {
	off := c.start + c.r.InputOffset()
	if c.bom != nil {
		off += int64(c.bom.skipped)
	}
	return off
}

// Raw is the bytes of the last record Next returned or reported, as they
// are in the input (quotes and embedded line breaks kept, the final line
// ending dropped); valid until the next call. It is what a dead letter
// carries for a row that was refused.
func (c *CSVReader) Raw() []byte { return c.raw }

// Lines is the number of lines consumed through Offset: what to pass to
// NewCSVReaderAt with it.
func (c *CSVReader) Lines() int { return c.lines + c.nl }

// keepRaw moves the bytes of the record csv just read out of the recorder.
func (c *CSVReader) keepRaw() {
	taken := c.rec.take(c.r.InputOffset())
	c.nl += bytes.Count(taken, []byte{'\n'})
	c.raw = bytes.Trim(taken, "\r\n") // csv skips blank lines: they belong to no record
}

// recorder keeps the bytes csv.Reader reads (it reads ahead through its own
// buffer) until take hands over a record's worth, so the reader can say
// exactly which bytes made a record.
type recorder struct {
	r    io.Reader
	buf  []byte // input from offset base on
	base int64
	out  []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

// take returns the input from the last take up to offset end and forgets
// it. The slice is valid until the next take.
func (r *recorder) take(end int64) []byte {
	n := int(end - r.base)
	if n < 0 || n > len(r.buf) { // cannot happen: csv reports what it consumed
		n = len(r.buf)
	}
	r.out = append(r.out[:0], r.buf[:n]...)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	r.base += int64(n)
	return r.out
}

// Header is the file's header row.
func (c *CSVReader) Header() *Header { return c.header }

// Next returns the next row, io.EOF at the end, or a *LineError for a row that
// cannot be read (after which Next may be called again).
func (c *CSVReader) Next() (*Row, error) {
	for {
		values, err := c.r.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		c.keepRaw()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &LineError{Line: c.lines + pe.StartLine, Err: pe.Err}
			}
			return nil, err
		}
		line, _ := c.r.FieldPos(0)
		line += c.lines
		if len(values) == 1 && values[0] == "" {
			continue // csv returns a blank line inside quotes-free input only as a one-empty-field record
		}
		row, err := NewRow(c.header, values, line)
		if err != nil {
			return nil, &LineError{Line: line, Err: err}
		}
		return row, nil
	}
}

type bomSkipper struct {
	r       io.Reader
	done    bool
	skipped int
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if b.done {
		return b.r.Read(p)
	}
	b.done = true
	var bom [3]byte
	n, err := io.ReadFull(b.r, bom[:])
	rest := bom[:n]
	if n == 3 && bytes.Equal(rest, []byte{0xEF, 0xBB, 0xBF}) {
		rest = nil
		b.skipped = 3
	}
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, err
	}
	b.r = io.MultiReader(bytes.NewReader(rest), b.r)
	return b.r.Read(p)
}

// LineError is an error tied to a line of the input.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }
