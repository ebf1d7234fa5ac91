package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// NewRegistry returns a registry with the Go runtime and process
// collectors, for a role's own metrics to join.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// CheckFunc reports whether a dependency is ready: nil, or why not. It
// must return promptly when ctx ends.
type CheckFunc func(ctx context.Context) error

// CheckTimeout bounds each readiness check.
const CheckTimeout = 2 * time.Second

// Server serves a role's /metrics, /healthz and /readyz.
type Server struct {
	log      zerolog.Logger
	srv      *http.Server
	listen   string
	ln       net.Listener
	served   chan error
	stopping atomic.Bool

	mu     sync.Mutex
	checks map[string]CheckFunc
}

// NewServer returns a server for listen (host:port; port 0 picks one) that
// exposes what g gathers. Start begins serving.
func NewServer(listen string, g prometheus.Gatherer, log zerolog.Logger) *Server {
	s := &Server{
		log:    log.With().Str("component", "telemetry").Logger(),
		listen: listen,
		checks: map[string]CheckFunc{},
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:          promLogger{s.log},
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
		Timeout:           10 * time.Second,
	}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		// ReadTimeout bounds the body too: without it a client that
		// starts a body and stops holds its connection for ever (the
		// server waits to discard the body before it answers), and
		// enough of them starve /metrics and the probes.
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  time.Minute,
	}
	return s
}

// AddCheck registers a readiness check under name (replacing one of the
// same name). /readyz answers 200 only while every check passes.
func (s *Server) AddCheck(name string, fn CheckFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = fn
}

// Handler is the server's handler, for tests and for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// ProbeHandler serves /healthz and /readyz for a port that faces clients
// (the HTTP collector's, behind a load balancer): the same answers as the
// telemetry port's, status codes and all, but /readyz says only "ok" or
// "not ready", never which check failed or why (a check's error may name
// brokers and addresses), and there are no /metrics. Anything else is 404.
func (s *Server) ProbeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ok, _ := s.ready(r.Context()); !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Start binds the address and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("telemetry server: listening on %s: %w", s.listen, err)
	}
	s.ln = ln
	s.served = make(chan error, 1)
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.served <- err
	}()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("serving /metrics, /healthz, /readyz")
	return nil
}

// Addr is the address the server listens on, once started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown turns /readyz to 503 (so load balancers stop sending), then
// stops accepting connections and waits for requests in flight until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	if s.ln == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("telemetry server: shutting down: %w", err)
	}
	return <-s.served
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz runs every check concurrently, each within CheckTimeout, and
// answers in the style of Kubernetes' verbose /readyz: a line per check.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ok, report := s.ready(r.Context())
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write([]byte(report))
}

// ready runs the checks (none while shutting down: not ready) and says
// whether every one passed, with a line per check.
func (s *Server) ready(ctx context.Context) (bool, string) {
	if s.stopping.Load() {
		return false, "[-]shutdown: shutting down\n"
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	fns := make([]CheckFunc, 0, len(s.checks))
	for name := range s.checks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fns = append(fns, s.checks[name])
	}
	s.mu.Unlock()

	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
			defer cancel()
			errs[i] = fn(ctx)
		})
	}
	wg.Wait()

	var b strings.Builder
	ok := true
	for i, name := range names {
		if errs[i] != nil {
			ok = false
			fmt.Fprintf(&b, "[-]%s: %s\n", name, oneLine(errs[i].Error()))
		} else {
			fmt.Fprintf(&b, "[+]%s ok\n", name)
		}
	}
	return ok, b.String()
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

type promLogger struct{ log zerolog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Warn().Str("detail", fmt.Sprint(v...)).Msg("serving metrics")
}
