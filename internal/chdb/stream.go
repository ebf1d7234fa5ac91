package chdb

import (
	"errors"
	"io"
	"runtime"
	"unsafe"
)

// Stream hands a result over in chunks, so memory does not grow with the
// size of the result. It holds its Conn until Close.
type Stream struct {
	c      *Conn
	handle unsafe.Pointer
	stats  Stats
	done   bool
}

// Stream starts sql and returns its result as a stream of chunks in the
// given format. An error the engine detects before producing any data is
// returned here; later ones come from Next.
func (c *Conn) Stream(sql, format string, params ...Param) (*Stream, error) {
	if c.released {
		return nil, errors.New("chdb: stream on a released conn")
	}
	if c.stream != nil {
		return nil, errors.New("chdb: a stream is already open on this conn")
	}
	l := c.e.lib
	q, qn := cstr(sql)
	f, fn := cstr(format)
	var h unsafe.Pointer
	if len(params) == 0 {
		h = l.streamN(*c.e.conn, q, qn, f, fn)
	} else {
		cp := newCParams(params)
		h = l.streamParamsN(*c.e.conn, q, qn, f, fn, &cp.names[0], &cp.nameLens[0], &cp.values[0], &cp.valueLens[0], uintptr(len(params)))
		runtime.KeepAlive(cp)
	}
	runtime.KeepAlive(sql)
	runtime.KeepAlive(format)
	if h == nil {
		return nil, &Error{Message: "chdb: the engine returned no stream"}
	}
	if msg := l.errText(h); msg != "" {
		l.destroy(h)
		return nil, newError(msg)
	}
	s := &Stream{c: c, handle: h}
	c.stream = s
	return s, nil
}

// Next returns the next chunk, or io.EOF after the last one. The returned
// slice is the caller's.
func (s *Stream) Next() ([]byte, error) {
	if s.done || s.handle == nil {
		return nil, io.EOF
	}
	l := s.c.e.lib
	for {
		res := l.fetch(*s.c.e.conn, s.handle)
		if res == nil {
			s.done = true
			return nil, &Error{Message: "chdb: the engine returned no chunk"}
		}
		if msg := l.errText(res); msg != "" {
			l.destroy(res)
			s.done = true
			return nil, newError(msg)
		}
		st := stats(l, res)
		s.stats.Add(st)
		n := l.length(res)
		if n == 0 {
			l.destroy(res)
			s.done = true
			return nil, io.EOF
		}
		out := copyBuffer(l, res)
		l.destroy(res)
		if len(out) > 0 {
			return out, nil
		}
	}
}

// Stats are the figures accumulated over the chunks fetched so far.
func (s *Stream) Stats() Stats { return s.stats }

// Close cancels the stream if it has not ended and frees it.
func (s *Stream) Close() {
	if s.handle == nil {
		return
	}
	l := s.c.e.lib
	if !s.done {
		l.cancel(*s.c.e.conn, s.handle)
	}
	l.destroy(s.handle)
	s.handle = nil
	s.c.stream = nil
}
