package chserver

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/ch-go/compress"
	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// httpParams are URL parameters that belong to the HTTP interface, not to
// the engine's settings.
var httpParams = map[string]bool{
	"query": true, "database": true, "default_format": true, "query_id": true,
	"session_id": true, "session_timeout": true, "session_check": true,
	"compress": true, "decompress": true, "user": true, "password": true,
	"quota_key": true, "client_protocol_version": true, "buffer_size": true,
	"wait_end_of_query": true, "enable_http_compression": true,
	"http_zlib_compression_level": true, "send_progress_in_http_headers": true,
	"http_headers_progress_interval_ms": true, "add_http_cors_header": true,
	"http_response_buffer_size": true, "http_wait_end_of_query": true,
	"cancel_http_readonly_queries_on_client_close": true,
	"network_compression_method":                   true, "network_zstd_compression_level": true,
	"readonly": true, "stacktrace": true, "role": true, "default_role": true,
}

var settingNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

type setting struct{ name, value string }

// request is one parsed HTTP request.
type request struct {
	user      *principal
	queryID   string
	format    string
	database  string
	settings  []setting
	params    []chdb.Param
	readonly  bool
	get       bool // a GET request, which is read-only
	clientPV  bool // client_protocol_version sent: a native-protocol client
	stmt      *Statement
	scope     string    // settings a scoped user's statement runs with (scope.go)
	data      io.Reader // INSERT data: inline data, then the decoded body
	gzipBody  io.Reader // the body when it is gzip insert data as sent
	bodyErr   func() error
	startedAt time.Time
}

// ServeHTTP routes a request as a ClickHouse server does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ping":
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = io.WriteString(w, "Ok.\n")
		return
	case "/replicas_status":
		_, _ = io.WriteString(w, "Ok.\n")
		return
	case "/":
	default:
		http.Error(w, "There is no handle "+r.URL.Path+"\n\nUse / or /ping", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		http.Error(w, "HTTP method not allowed", http.StatusMethodNotAllowed)
		return
	}
	start := time.Now()
	resp := newResponder(s, w)
	kind := "unknown"
	defer func() {
		s.m.requests.WithLabelValues(kind, statusLabel(resp.status)).Inc()
		s.log.Debug().Str("query_id", resp.queryID).Str("kind", kind).Int("status", resp.status).Dur("took", time.Since(start)).Msg("request")
	}()

	q := r.URL.Query()
	resp.queryID = q.Get("query_id")
	if resp.queryID == "" {
		resp.queryID = uuid.NewString()
	}
	if ex := s.setupCompression(resp, r, q); ex != nil {
		resp.fail(ex)
		return
	}
	user, ex := s.authenticate(r)
	if ex != nil {
		resp.fail(ex)
		return
	}
	req, ex := s.parseRequest(r, q, user)
	if ex != nil {
		resp.fail(ex)
		return
	}
	req.queryID = resp.queryID
	req.startedAt = start
	kind = strings.ToLower(req.stmt.Kind)
	if !knownKinds[req.stmt.Kind] {
		kind = "other"
	}
	resp.format = req.format
	if req.stmt.Format != "" {
		resp.format = req.stmt.Format
	}
	s.execute(r, req, resp)
}

var knownKinds = map[string]bool{"SELECT": true, "WITH": true, "INSERT": true, "SHOW": true, "DESC": true, "DESCRIBE": true,
	"EXISTS": true, "EXPLAIN": true, "CREATE": true, "ALTER": true, "DROP": true, "SET": true, "USE": true, "OPTIMIZE": true,
	"TRUNCATE": true, "RENAME": true, "SYSTEM": true, "DELETE": true, "UPDATE": true}

func statusLabel(code int) string {
	switch {
	case code == 0:
		return "none"
	case code < 300:
		return "2xx"
	case code < 500:
		return "4xx"
	default:
		return "5xx"
	}
}

// setupCompression reads compress, network_compression_method and
// enable_http_compression with Accept-Encoding.
func (s *Server) setupCompression(resp *responder, r *http.Request, q map[string][]string) *exception {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if get("compress") == "1" {
		resp.blockOn = true
		switch strings.ToUpper(get("network_compression_method")) {
		case "", "LZ4":
			resp.blockCompress = compress.LZ4
		case "ZSTD":
			resp.blockCompress = compress.ZSTD
		case "NONE":
			resp.blockCompress = compress.None
		default:
			return s.codes.raise("UNKNOWN_COMPRESSION_METHOD", "Unknown compression method %q (network_compression_method)", get("network_compression_method"))
		}
	}
	if get("enable_http_compression") == "1" {
		for _, enc := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
			enc = strings.ToLower(strings.TrimSpace(strings.SplitN(enc, ";", 2)[0]))
			if enc == "gzip" || enc == "deflate" || enc == "zstd" {
				resp.httpEncoding = enc
				break
			}
		}
	}
	return nil
}

// parseRequest reads parameters, the statement (from the query parameter,
// the body, or both, as ClickHouse does) and, for an INSERT, where its
// data comes from.
func (s *Server) parseRequest(r *http.Request, q map[string][]string, user *principal) (*request, *exception) {
	// As on a server, GET is for reading: it implies readonly.
	get := r.Method != http.MethodPost
	req := &request{user: user, format: "TabSeparated", readonly: get, get: get}
	var queryParam string
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch {
		case k == "query":
			queryParam = v
		case k == "default_format":
			if v != "" {
				req.format = v
			}
		case k == "database":
			req.database = v
		case k == "client_protocol_version":
			req.clientPV = true
		case k == "readonly":
			if v != "" && v != "0" {
				req.readonly = true
			}
		case strings.HasPrefix(k, "param_"):
			req.params = append(req.params, chdb.Param{Name: strings.TrimPrefix(k, "param_"), Value: v})
		case httpParams[k], strings.HasPrefix(k, "_"):
		default:
			if !settingNameRE.MatchString(k) {
				return nil, s.codes.raise("UNKNOWN_SETTING", "Unknown setting '%s'", k)
			}
			req.settings = append(req.settings, setting{k, v})
		}
	}

	body, bodyErr, ex := s.decodeBody(r, q)
	if ex != nil {
		return nil, ex
	}
	req.bodyErr = bodyErr

	if queryParam != "" {
		if len(queryParam) > s.cfg.MaxQuerySize {
			return nil, s.codes.raise("QUERY_IS_TOO_LARGE", "Query is too large (%d bytes); max_query_size is %d", len(queryParam), s.cfg.MaxQuerySize)
		}
		st, err := parseStatement(queryParam)
		if err == nil && st.Insert != nil && st.Insert.HasData {
			// The body is the data (after any inline data in the parameter).
			req.stmt = st
			req.data = io.MultiReader(strings.NewReader(st.Insert.Data), body)
			if st.Insert.Data == "" && isGzipOnly(r, q) {
				req.gzipBody = r.Body
			}
			return req, nil
		}
		// Otherwise the body continues the statement.
		rest, ex := s.readText(body, s.cfg.MaxQuerySize-len(queryParam))
		if ex != nil {
			return nil, ex
		}
		text := queryParam
		if rest != "" {
			text += "\n" + rest
		}
		st, err = parseStatement(text)
		if err != nil {
			return nil, s.codes.asException(err)
		}
		req.stmt = st
		if st.Insert != nil && st.Insert.HasData {
			req.data = strings.NewReader(st.Insert.Data)
		}
		return req, nil
	}

	// The statement is at the start of the body; an INSERT's data may
	// follow. Up to max_query_size (+1, to tell a statement that is too
	// large) is read first: a statement is never parsed from less of the
	// body than it has.
	head, err := io.ReadAll(io.LimitReader(body, int64(s.cfg.MaxQuerySize)+1))
	if err != nil {
		return nil, s.codes.raise("CANNOT_READ_ALL_DATA", "Cannot read the request body: %v", err)
	}
	if len(head) == 0 {
		return nil, s.codes.raise("SYNTAX_ERROR", "Empty query")
	}
	text := string(head)
	st, err := parseStatement(text)
	if err == nil && st.Insert != nil && st.Insert.HasData {
		req.stmt = st
		req.data = io.MultiReader(strings.NewReader(st.Insert.Data), body)
		return req, nil
	}
	if len(head) > s.cfg.MaxQuerySize {
		return nil, s.codes.raise("QUERY_IS_TOO_LARGE", "Query is too large (more than max_query_size, %d bytes)", s.cfg.MaxQuerySize)
	}
	if err != nil {
		return nil, s.codes.asException(err)
	}
	req.stmt = st
	return req, nil
}

// isGzipOnly reports whether the body is gzip insert data that the engine
// can read as it is (COMPRESSION 'gzip').
func isGzipOnly(r *http.Request, q map[string][]string) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") &&
		len(q["decompress"]) == 0
}

func (s *Server) readText(body io.Reader, limit int) (string, *exception) {
	b, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return "", s.codes.raise("CANNOT_READ_ALL_DATA", "Cannot read the request body: %v", err)
	}
	if len(b) > limit {
		return "", s.codes.raise("QUERY_IS_TOO_LARGE", "Query is too large (more than max_query_size, %d bytes)", s.cfg.MaxQuerySize)
	}
	return string(b), nil
}

// errTracker remembers the first read error of the body, so an insert that
// the engine saw end early can say why.
type errTracker struct {
	r   io.Reader
	err error
}

func (t *errTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// decodeBody undoes Content-Encoding (gzip, deflate, zstd) and
// decompress=1 (ClickHouse's compressed blocks, LZ4 or ZSTD).
func (s *Server) decodeBody(r *http.Request, q map[string][]string) (io.Reader, func() error, *exception) {
	raw := &errTracker{r: r.Body}
	var body io.Reader = raw
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	var decErr *errTracker
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		body = &lazyReader{open: func() (io.Reader, error) { return gzip.NewReader(raw) }}
	case "deflate":
		body = &lazyReader{open: func() (io.Reader, error) { return zlib.NewReader(raw) }}
	case "zstd":
		body = &lazyReader{open: func() (io.Reader, error) {
			d, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			return d.IOReadCloser(), nil
		}}
	default:
		return nil, nil, s.codes.raise("UNKNOWN_COMPRESSION_METHOD", "Unknown Content-Encoding %q: gzip, deflate and zstd are supported", enc)
	}
	if v := q["decompress"]; len(v) > 0 && v[len(v)-1] == "1" {
		body = &blockReader{r: compress.NewReader(body)}
	}
	decErr = &errTracker{r: body}
	errf := func() error {
		if raw.err != nil {
			return raw.err
		}
		return decErr.err
	}
	return decErr, errf, nil
}

// lazyReader opens a decoder on first read, so a header it cannot parse is
// a read error of the data, not of the request line.
type lazyReader struct {
	open func() (io.Reader, error)
	r    io.Reader
	err  error
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil && l.err == nil {
		l.r, l.err = l.open()
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.r.Read(p)
}

// blockReader ends cleanly at the end of the last compressed block: ch-go
// wraps that io.EOF ("read next block: header: EOF"), which io.Copy would
// take for a failure. A block cut short stays an error (ErrUnexpectedEOF).
type blockReader struct{ r io.Reader }

func (b *blockReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// currentDatabase is the database unqualified names are looked up in.
func (r *request) currentDatabase() string {
	if r.database == "" {
		return "default"
	}
	return r.database
}
