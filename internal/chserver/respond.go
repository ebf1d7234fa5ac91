package chserver

import (
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ClickHouse/ch-go/compress"
	"github.com/klauspost/compress/zstd"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// responder writes one reply: headers once, then the body through the
// compression the client asked for, and errors either as a status (before
// the body started) or as ClickHouse's in-band exception block (after).
type responder struct {
	s       *Server
	w       http.ResponseWriter
	queryID string
	format  string
	tag     string

	blockCompress compress.Method // compress=1: ClickHouse compressed blocks
	blockOn       bool
	httpEncoding  string // enable_http_compression=1: gzip, deflate or zstd

	started bool
	status  int
	out     io.Writer
	closer  io.Closer
	cw      *compress.Writer
}

func newResponder(s *Server, w http.ResponseWriter) *responder {
	var t [8]byte
	_, _ = rand.Read(t[:])
	return &responder{s: s, w: w, tag: hex.EncodeToString(t[:])}
}

// contentType is what a ClickHouse server says for a format.
func contentType(format string) string {
	f := strings.ToLower(format)
	switch {
	case strings.HasPrefix(f, "tabseparated"), strings.HasPrefix(f, "tsv"):
		return "text/tab-separated-values; charset=UTF-8"
	case strings.HasPrefix(f, "csv"):
		return "text/csv; charset=UTF-8; header=absent"
	case f == "jsoneachrow", f == "ndjson", f == "jsonlines", strings.HasPrefix(f, "jsoncompacteachrow"), strings.HasPrefix(f, "jsonstringseachrow"):
		return "application/x-ndjson; charset=UTF-8"
	case strings.HasPrefix(f, "json"):
		return "application/json; charset=UTF-8"
	case f == "xml":
		return "application/xml; charset=UTF-8"
	case strings.HasPrefix(f, "pretty"), f == "vertical", f == "markdown", f == "values", f == "null":
		return "text/plain; charset=UTF-8"
	default:
		return "application/octet-stream"
	}
}

func summary(st chdb.Stats, resultRows uint64) string {
	return fmt.Sprintf(`{"read_rows":"%d","read_bytes":"%d","written_rows":"%d","written_bytes":"%d","total_rows_to_read":"%d","result_rows":"%d","result_bytes":"0","elapsed_ns":"%d"}`,
		st.RowsRead, st.BytesRead, st.RowsWritten, st.BytesWritten, st.RowsRead, resultRows, st.Elapsed.Nanoseconds())
}

func (r *responder) commonHeaders() {
	h := r.w.Header()
	h.Set("X-ClickHouse-Query-Id", r.queryID)
	h.Set("X-ClickHouse-Timezone", r.s.timezone)
	h.Set("X-ClickHouse-Server-Display-Name", r.s.displayName)
	h.Set("Keep-Alive", "timeout="+strconv.Itoa(int(r.s.cfg.IdleTimeout.Seconds())))
}

// begin sends 200 and the headers, and sets up the body's compression.
func (r *responder) begin(st chdb.Stats) {
	if r.started {
		return
	}
	r.started = true
	r.status = http.StatusOK
	r.commonHeaders()
	h := r.w.Header()
	h.Set("X-ClickHouse-Format", r.format)
	h.Set("Content-Type", contentType(r.format))
	h.Set("X-ClickHouse-Summary", summary(st, 0))
	h.Set("X-ClickHouse-Exception-Tag", r.tag)
	var out io.Writer = r.w
	switch r.httpEncoding {
	case "gzip":
		gz, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
		out, r.closer = gz, gz
	case "deflate":
		zw, _ := zlib.NewWriterLevel(out, zlib.BestSpeed)
		out, r.closer = zw, zw
	case "zstd":
		zw, _ := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		out, r.closer = zw, zw
	}
	if r.httpEncoding != "" {
		h.Set("Content-Encoding", r.httpEncoding)
	}
	r.out = out
	if r.blockOn {
		r.cw = compress.NewWriter(compress.LevelZero, r.blockCompress)
	}
	r.w.WriteHeader(http.StatusOK)
}

// maxBlock bounds one compressed block, as the server's own blocks are.
const maxBlock = 1 << 20

// write sends body bytes.
func (r *responder) write(p []byte) error {
	if !r.blockOn {
		_, err := r.out.Write(p)
		return err
	}
	for len(p) > 0 {
		n := min(len(p), maxBlock)
		if err := r.cw.Compress(p[:n]); err != nil {
			return err
		}
		if _, err := r.out.Write(r.cw.Data); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func (r *responder) flush() {
	if f, ok := r.out.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	if f, ok := r.w.(http.Flusher); ok {
		f.Flush()
	}
}

// finish ends the body.
func (r *responder) finish() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// fail reports ex: as a status and a text body before the body started, as
// ClickHouse's framed exception block after it (the client finds it by the
// tag announced in X-ClickHouse-Exception-Tag).
func (r *responder) fail(ex *exception) {
	text := ex.Error() + " (version " + r.s.version + ")"
	if !r.started {
		r.started = true
		r.status = statusFor(ex.name)
		if ex.unauthorized {
			r.status = http.StatusUnauthorized
		}
		r.commonHeaders()
		h := r.w.Header()
		h.Del("Content-Encoding")
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		h.Set("X-ClickHouse-Exception-Code", strconv.Itoa(ex.code))
		h.Set("X-ClickHouse-Exception-Tag", r.tag)
		r.w.WriteHeader(r.status)
		_, _ = io.WriteString(r.w, text+"\n")
		return
	}
	block := "\r\n__exception__\r\n" + r.tag + "\r\n" + text + "\n" + strconv.Itoa(len(text)) + " " + r.tag + "\r\n__exception__\r\n"
	// Outside ClickHouse's compressed blocks (compress=1), as a server
	// writes it: clients look for it in the bytes they received, before
	// they decompress blocks. HTTP compression still wraps it.
	_, _ = r.out.Write([]byte(block))
	_ = r.finish()
	r.closer = nil
}
