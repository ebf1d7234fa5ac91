package chserver

import (
	"encoding/binary"
	"strings"
	"sync"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// The engine writes Native as protocol revision 0, which a ClickHouse
// server only does for very old clients, and that differs from what a
// server sends a current client in two ways this file repairs:
//
//   - an empty result is 0 bytes, where a server sends a block with the
//     column names and types and no rows (clients read column names and
//     types from it);
//   - a top-level DateTime('zone') column is announced as plain DateTime
//     (NativeWriter drops the zone for clients older than revision 54337),
//     so clients would show its values in the server's zone, not the
//     column's.
//
// Both need the result's columns, which `DESCRIBE (query)` gives. It costs
// an engine call, so descriptions are cached per statement text, and the
// cache is emptied whenever a statement that may change a schema runs.

// column is a result column's name and type.
type column struct{ name, typ string }

// textCache is a bounded map from statement text (and what else the key
// holds) to what the engine said of it; when full it starts afresh. An
// entry over textCacheEntryBytes is not kept: a client sending large
// distinct statements must not make the cache hold gigabytes.
type textCache[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

const (
	textCacheSize       = 1024
	textCacheEntryBytes = 32 << 10
)

func (c *textCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

// put keeps v under key; size is v's size in bytes (roughly).
func (c *textCache[V]) put(key string, v V, size int) {
	if len(key)+size > textCacheEntryBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= textCacheSize {
		c.m = make(map[string]V)
	}
	c.m[key] = v
}

// clear forgets everything: a schema may have changed.
func (c *textCache[V]) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// describe returns the result columns of text, a query with no FORMAT
// clause, run with the given trailing settings.
func (s *Server) describe(conn *chdb.Conn, req *request, text, settings string) ([]column, error) {
	var key strings.Builder
	key.WriteString(req.database)
	key.WriteByte(0)
	key.WriteString(text)
	key.WriteByte(0)
	key.WriteString(settings)
	// Parameter values do not change a result's types (the placeholder
	// gives the type), except an Identifier's, which can name another
	// table. Keying by the others would miss the cache on every point
	// query.
	compact := strings.Join(strings.Fields(text), "")
	for _, p := range req.params {
		if !strings.Contains(compact, "{"+p.Name+":Identifier}") {
			continue
		}
		key.WriteByte(0)
		key.WriteString(p.Name)
		key.WriteByte('=')
		key.WriteString(p.Value)
	}
	if cols, ok := s.describes.get(key.String()); ok {
		return cols, nil
	}
	q := "DESCRIBE (" + text + "\n)"
	if settings != "" {
		q += " SETTINGS " + settings
	}
	out, _, err := conn.Query(q, "TSVRaw", req.params...)
	if err != nil {
		return nil, err
	}
	var cols []column
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			continue
		}
		cols = append(cols, column{name: f[0], typ: f[1]})
	}
	s.describes.put(key.String(), cols, 32*len(cols))
	return cols, nil
}

// emptyHeader runs text again in RowBinaryWithNamesAndTypes, whose header
// the engine writes even for no rows, and returns the matching empty Native
// block; nil if that fails.
func (s *Server) emptyHeader(conn *chdb.Conn, req *request, text string) []byte {
	out, _, err := conn.Query(text, "RowBinaryWithNamesAndTypes", req.params...)
	if err != nil {
		return nil
	}
	w := &walker{b: out}
	n, err := w.uvarint()
	if err != nil || n > 10000 {
		return nil
	}
	cols := make([]column, n)
	for i := range cols {
		if cols[i].name, err = w.str(); err != nil {
			return nil
		}
	}
	for i := range cols {
		if cols[i].typ, err = w.str(); err != nil {
			return nil
		}
	}
	return emptyBlock(cols)
}

// emptyBlock is a Native block (revision 0) with cols and no rows.
func emptyBlock(cols []column) []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(cols)))
	b = binary.AppendUvarint(b, 0)
	for _, c := range cols {
		b = binary.AppendUvarint(b, uint64(len(c.name)))
		b = append(b, c.name...)
		b = binary.AppendUvarint(b, uint64(len(c.typ)))
		b = append(b, c.typ...)
	}
	return b
}

// needsZonePatch reports whether a result has a top-level DateTime with a
// zone, which the engine's Native output loses.
func needsZonePatch(cols []column) bool {
	for _, c := range cols {
		if strings.HasPrefix(c.typ, "DateTime(") {
			return true
		}
	}
	return false
}

// zonePatcher rewrites the type names in the headers of a Native stream
// to the described ones. Chunks need not end on block boundaries: the tail
// of an incomplete block waits for the next chunk. If a block has a type
// whose layout it cannot walk, it passes everything from there on as it is.
type zonePatcher struct {
	cols    []column
	types   []*chType
	pending []byte
	off     bool // gave up: pass through
}

// maxPendingBlock bounds how much of one block is held back.
const maxPendingBlock = 256 << 20

func newZonePatcher(cols []column) *zonePatcher {
	p := &zonePatcher{cols: cols}
	for _, c := range cols {
		p.types = append(p.types, parseType(c.typ))
	}
	return p
}

// push takes a chunk and returns what can be sent now.
func (p *zonePatcher) push(chunk []byte) []byte {
	if p.off {
		return chunk
	}
	buf := chunk
	if len(p.pending) > 0 {
		buf = append(p.pending, chunk...)
		p.pending = nil
	}
	var out []byte
	for len(buf) > 0 {
		block, n, err := p.block(buf)
		if err == errShort && len(buf) < maxPendingBlock {
			p.pending = append([]byte(nil), buf...)
			break
		}
		if err != nil {
			p.off = true
			return append(out, buf...)
		}
		out = append(out, block...)
		buf = buf[n:]
	}
	return out
}

// flush returns what is left at the end of the stream.
func (p *zonePatcher) flush() []byte {
	rest := p.pending
	p.pending = nil
	return rest
}

// block patches the first block of buf and returns it and its length.
func (p *zonePatcher) block(buf []byte) ([]byte, int, error) {
	w := &walker{b: buf}
	ncols, err := w.uvarint()
	if err != nil {
		return nil, 0, err
	}
	rows, err := w.uvarint()
	if err != nil {
		return nil, 0, err
	}
	if ncols != uint64(len(p.cols)) {
		return nil, 0, errUnsupported
	}
	out := make([]byte, 0, len(buf)+64)
	out = append(out, buf[:w.pos]...)
	for i := range p.cols {
		name, err := w.str()
		if err != nil {
			return nil, 0, err
		}
		typ, err := w.str()
		if err != nil {
			return nil, 0, err
		}
		if typ == "DateTime" && strings.HasPrefix(p.cols[i].typ, "DateTime(") {
			typ = p.cols[i].typ
		} else if typ != p.cols[i].typ {
			return nil, 0, errUnsupported // not the described result
		}
		out = binary.AppendUvarint(out, uint64(len(name)))
		out = append(out, name...)
		out = binary.AppendUvarint(out, uint64(len(typ)))
		out = append(out, typ...)
		start := w.pos
		if rows > 0 {
			if err := w.prefix(p.types[i]); err != nil {
				return nil, 0, err
			}
			if err := w.data(p.types[i], rows); err != nil {
				return nil, 0, err
			}
		}
		out = append(out, buf[start:w.pos]...)
	}
	return out, w.pos, nil
}
