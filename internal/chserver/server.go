package chserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// Server serves the ClickHouse HTTP interface from an engine.
type Server struct {
	cfg       Config
	log       zerolog.Logger
	eng       *chdb.Engine
	users     map[string]*principal
	dummyHash [32]byte
	codes     *codes
	q         *queue
	m         *metrics
	describes textCache[[]column] // result columns by query (native.go)
	parses    textCache[parsed]   // the read guard's parse of a statement (guard.go)
	cat       catalogueCache      // the read guard's view of the tables (guard.go)

	displayName, version, timezone string
	fifoDir                        string

	ln  net.Listener
	srv *http.Server
}

// New prepares a server for eng. It asks the engine for its version, time
// zone and error codes, and makes a private directory for insert pipes.
func New(ctx context.Context, eng *chdb.Engine, cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	users, err := loadUsers(cfg.Users)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log.With().Str("component", "clickhouse").Logger(), eng: eng, users: users}
	if _, err := rand.Read(s.dummyHash[:]); err != nil {
		return nil, err
	}
	s.q = newQueue(cfg.QueueSize)
	s.m = newMetrics(reg, s.q)

	out, _, err := eng.Query(ctx, "SELECT displayName(), version(), timezone()", "TSVRaw")
	if err != nil {
		return nil, fmt.Errorf("asking the engine for its version: %w", err)
	}
	f := strings.Split(strings.TrimRight(string(out), "\n"), "\t")
	if len(f) != 3 {
		return nil, fmt.Errorf("unexpected engine version reply %q", out)
	}
	s.displayName, s.version, s.timezone = f[0], f[1], f[2]
	// clickhouse-go returns times in the handshake's zone; Go's name for
	// the engine's Etc/UTC is a location that is not time.UTC.
	if s.timezone == "Etc/UTC" || s.timezone == "UCT" || s.timezone == "Etc/UCT" {
		s.timezone = "UTC"
	}
	if s.codes, err = loadCodes(ctx, eng); err != nil {
		return nil, err
	}
	s.fifoDir, err = os.MkdirTemp("", "trailwatch-ch-")
	if err != nil {
		return nil, fmt.Errorf("making a directory for insert pipes: %w", err)
	}
	return s, nil
}

func loadCodes(ctx context.Context, eng *chdb.Engine) (*codes, error) {
	out, _, err := eng.Query(ctx, "SELECT number, errorCodeToName(number) FROM numbers(2000) WHERE errorCodeToName(number) != ''", "TSVRaw")
	if err != nil {
		return nil, fmt.Errorf("reading the engine's error codes: %w", err)
	}
	c := &codes{byName: map[string]int{}, byCode: map[int]string{}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n, name, ok := strings.Cut(line, "\t")
		code, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		c.byName[name] = code
		c.byCode[code] = name
	}
	for _, n := range ownNames {
		if _, ok := c.byName[n]; !ok {
			return nil, fmt.Errorf("the engine has no error code named %s", n)
		}
	}
	return c, nil
}

// Listen binds the configured address. Serve then serves it.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("clickhouse http: listening on %s: %w", s.cfg.Listen, err)
	}
	if s.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("clickhouse http: loading TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.ln = ln
	return nil
}

// Addr is the address the server listens on (after Listen).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL (after Listen).
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.TLSCertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + s.Addr()
}

// Serve serves until ctx ends, then stops accepting, waits for requests in
// flight (up to the grace period) and removes its pipe directory. The
// engine itself is the caller's to close, after Serve returns.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          nil,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	s.log.Info().Str("url", s.URL()).Msg("clickhouse http interface listening")
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownGracePeriod)
		err = s.srv.Shutdown(sctx)
		cancel()
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	}
	os.RemoveAll(s.fifoDir)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// fifoPath names a fresh pipe for one insert.
func (s *Server) fifoPath(queryID string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(s.fifoDir, fmt.Sprintf("insert-%x.gz", b))
}
