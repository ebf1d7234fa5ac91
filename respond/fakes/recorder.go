package fakes

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request is one request a stand-in received, as it arrived.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Status is what the stand-in answered.
	Status int
}

// Fault is an injected failure: the next matching requests get this answer
// instead of the vendor's normal one.
type Fault struct {
	Status int
	Header http.Header
	Body   string
	// Hang holds the request until the client gives up (its timeout or
	// cancellation), as a vendor that stopped answering would.
	Hang bool
	// Match limits the fault to requests it accepts; nil matches every API
	// request (never the token endpoint, which has its own faults).
	Match func(*http.Request) bool
}

// server is what every HTTP stand-in shares: a loopback httptest server,
// the request log and the fault queue.
type server struct {
	srv *httptest.Server

	mu     sync.Mutex
	log    []Request
	faults []pendingFault
	hooks  []pendingHook
}

type pendingHook struct {
	match func(*http.Request) bool
	fn    func(*http.Request)
	left  int
}

type pendingFault struct {
	f    Fault
	left int
}

func (s *server) start(tb testing.TB, h http.Handler) {
	tb.Helper()
	s.srv = httptest.NewServer(s.wrap(h))
	tb.Cleanup(s.srv.Close)
}

// URL is the stand-in's base URL (http://127.0.0.1:port).
func (s *server) URL() string { return s.srv.URL }

// Client is an HTTP client for the stand-in.
func (s *server) Client() *http.Client { return s.srv.Client() }

// Fail makes the next n matching requests fail with f.
func (s *server) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, pendingFault{f: f, left: n})
}

// AfterApply runs fn for the next n requests that match (nil matches every
// API request, never the token endpoint) after the stand-in has carried
// them out (the vendor's state changed) and before the answer leaves: the
// answer is held until fn returns. A test kills the caller there, e.g.
// cancels the responder's context and waits for the request's context to
// end, to simulate a crash between the vendor acting and the caller
// learning that it did.
func (s *server) AfterApply(n int, match func(*http.Request) bool, fn func(*http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, pendingHook{match: match, fn: fn, left: n})
}

func (s *server) takeHook(r *http.Request, token bool) func(*http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.hooks {
		h := &s.hooks[i]
		if h.left <= 0 || (h.match == nil && token) || (h.match != nil && !h.match(r)) {
			continue
		}
		h.left--
		return h.fn
	}
	return nil
}

// Requests is every request received so far, in order.
func (s *server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Count is how many requests with this method arrived at paths with this
// prefix.
func (s *server) Count(method, pathPrefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// Reset forgets the request log, pending faults and hooks (not the vendor
// state).
func (s *server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log, s.faults, s.hooks = nil, nil, nil
}

func (s *server) takeFault(r *http.Request, token bool) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		pf := &s.faults[i]
		if pf.left <= 0 {
			continue
		}
		if pf.f.Match == nil && token {
			continue
		}
		if pf.f.Match != nil && !pf.f.Match(r) {
			continue
		}
		pf.left--
		return pf.f, true
	}
	return Fault{}, false
}

// statusWriter remembers the status the handler wrote, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// isTokenPath tells the token endpoints apart from API calls, so a fault
// without Match hits API requests only.
func isTokenPath(p string) bool {
	return strings.HasSuffix(p, "/oauth2/token") || strings.HasSuffix(p, "/oauth2/v2.0/token")
}

func (s *server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		sw := &statusWriter{ResponseWriter: w}
		if f, ok := s.takeFault(r, isTokenPath(r.URL.Path)); ok {
			if f.Hang {
				<-r.Context().Done()
				sw.status = 0 // never answered
			} else {
				for k, vs := range f.Header {
					for _, v := range vs {
						w.Header().Add(k, v)
					}
				}
				sw.WriteHeader(f.Status)
				io.WriteString(sw, f.Body)
			}
		} else {
			// net/http buffers a small answer until the handler returns
			// (statusWriter is no http.Flusher), so a hook runs before
			// the client has seen any of it.
			h.ServeHTTP(sw, r)
			if hook := s.takeHook(r, isTokenPath(r.URL.Path)); hook != nil {
				hook(r)
			}
		}
		s.mu.Lock()
		s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body, Status: sw.status})
		s.mu.Unlock()
	})
}
