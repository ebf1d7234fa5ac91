package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the longest NDJSON line LineReader accepts by default:
// four times the contract's 64 KiB event limit, since vendor records carry
// fields the canonical event drops.
const DefaultMaxLine = 256 << 10

// LineReader cuts NDJSON into records, one per line, skipping blank lines.
// A line longer than its limit is reported as a *LineError and skipped whole;
// reading goes on with the next line.
type LineReader struct {
	br   *bufio.Reader
	max  int
	line int
	off  int64
	buf  []byte
}

// NewLineReader reads r; maxLine <= 0 means DefaultMaxLine.
func NewLineReader(r io.Reader, maxLine int) *LineReader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &LineReader{br: bufio.NewReaderSize(r, 64<<10), max: maxLine}
}

// Resume numbers lines and offsets as if the input began after line line,
// at byte offset: a collector that reopens a file at a checkpoint calls it
// before the first Next, so line numbers and Offset stay those of the file.
func (l *LineReader) Resume(line int, offset int64) {
	l.line, l.off = line, offset
}

// Offset is the byte offset just past the last line Next returned (or
// skipped as too long), line ending included: where reading resumes to
// continue after it.
func (l *LineReader) Offset() int64 { return l.off }

// Lines is the number of lines consumed through Offset: what to pass to
// Resume with it.
func (l *LineReader) Lines() int { return l.line }

// Next returns the next non-blank line (without its line ending) and its
// 1-based number. The slice is valid until the next call. It returns io.EOF at
// the end.
func (l *LineReader) Next() ([]byte, int, error) {
	for {
		l.buf = l.buf[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = l.br.ReadSlice('\n')
			l.off += int64(len(chunk))
			if !tooLong {
				if len(l.buf)+len(chunk) > l.max+2 { // +2: the line ending is not content
					tooLong = true
					l.buf = l.buf[:0]
				} else {
					l.buf = append(l.buf, chunk...)
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			break
		}
		if err != nil && err != io.EOF {
			return nil, l.line, fmt.Errorf("reading line %d: %w", l.line+1, err)
		}
		if err == io.EOF && len(l.buf) == 0 && !tooLong {
			return nil, l.line, io.EOF
		}
		l.line++
		if tooLong {
			return nil, l.line, &LineError{Line: l.line, Err: fmt.Errorf("line is longer than the %d-byte limit", l.max)}
		}
		data := bytes.TrimRight(l.buf, "\r\n")
		if len(bytes.TrimSpace(data)) == 0 {
			if err == io.EOF {
				return nil, l.line, io.EOF
			}
			continue
		}
		return data, l.line, nil
	}
}
