package httpin

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/deadletter"
)

// EventsPath is where events are posted.
const EventsPath = "/v1/events"

// source is one configured source with its loaded credentials.
type source struct {
	cfg       SourceConfig
	tokenHash []byte // SHA-256 of the bearer token, nil without one
	secret    []byte // HMAC secret, nil without one
	replay    *replayCache
	parser    *ingest.Parser // of the source's own format
	limits    ingest.Limits

	mu      sync.Mutex
	parsers map[string]*ingest.Parser // other formats asked for with ?format=
	batches sync.Pool
}

// parserFor returns the parser of format ("" for the source's own).
func (s *source) parserFor(format string) (*ingest.Parser, error) {
	if format == "" || format == s.parser.Format() {
		return s.parser, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.parsers[format]; ok {
		return p, nil
	}
	p, err := ingest.NewParser(s.cfg.Source, format, s.limits)
	if err != nil {
		return nil, err
	}
	s.parsers[format] = p // bounded: formats are a fixed set
	return p, nil
}

// Server is the HTTP collector.
type Server struct {
	cfg     Config
	pub     *ingest.Publisher
	sources []*source
	byName  map[string]*source
	sem     chan struct{}
	// unverifiedSem bounds the requests of signature-only sources
	// (Config.MaxUnverifiedInFlight).
	unverifiedSem chan struct{}
	m             *metrics
	log           zerolog.Logger
	handler       http.Handler
	now           func() time.Time
	bodies        sync.Pool

	stopping atomic.Bool
	srv      *http.Server
	ln       net.Listener
}

// New builds the collector: it reads every source's credentials and
// mapping now, so a bad one fails at start, not on the first request. Paths
// other than /v1/events go to other (the role gives the telemetry server's
// probes, telemetry.Server.ProbeHandler: this port faces CRMs and the
// internet, so no metrics and no readiness details), or answer 404 when it
// is nil.
func New(cfg Config, pub *ingest.Publisher, limits ingest.Limits, log zerolog.Logger, reg prometheus.Registerer, other http.Handler) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:           cfg,
		pub:           pub,
		byName:        map[string]*source{},
		sem:           make(chan struct{}, cfg.MaxInFlight),
		unverifiedSem: make(chan struct{}, cfg.MaxUnverifiedInFlight),
		m:             m,
		log:           log.With().Str("component", "ingest-http").Logger(),
		now:           time.Now,
	}
	var errs []error
	for i, sc := range cfg.Sources {
		src, err := loadSource(i, sc, limits, cfg.ReplayCacheSize)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.sources = append(s.sources, src)
		s.byName[sc.Name] = src
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(s.sources) == 0 {
		s.log.Warn().Err(errNoSources).Msg("no source configured")
	}
	mux := http.NewServeMux()
	mux.HandleFunc(EventsPath, s.events)
	if other != nil {
		mux.Handle("/", other)
	}
	s.handler = mux
	return s, nil
}

func loadSource(i int, sc SourceConfig, limits ingest.Limits, replaySize int) (*source, error) {
	where := fmt.Sprintf("ingest.http.sources[%d] (%s)", i, sc.Name)
	token, err := readSecret(where+".token", sc.TokenFile, sc.TokenEnv)
	if err != nil {
		return nil, err
	}
	secret, err := readSecret(where+".hmac_secret", sc.HMACSecretFile, sc.HMACSecretEnv)
	if err != nil {
		return nil, err
	}
	p, err := ingest.NewParser(sc.Source, "", limits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	src := &source{cfg: sc, secret: secret, parser: p, limits: limits, parsers: map[string]*ingest.Parser{}}
	if token != nil {
		sum := sha256.Sum256(token)
		src.tokenHash = sum[:]
	}
	if secret != nil {
		src.replay = newReplayCache(replaySize)
	}
	return src, nil
}

// Handler serves /v1/events and hands other paths on.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds the configured address (port 0 picks one).
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("ingest http: listening on %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	return nil
}

// Addr is the address listened on, after Listen.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve answers requests until ctx ends, then stops taking connections and
// gives the requests in flight ProduceTimeout and a little more to finish:
// a request that read its body is answered after Kafka acknowledged it or
// timed out, never dropped.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.ReadTimeout + s.cfg.QueueTimeout + s.cfg.ProduceTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	scheme := "http"
	served := make(chan error, 1)
	if s.cfg.TLSCertFile != "" {
		scheme = "https"
		s.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		go func() { served <- s.srv.ServeTLS(s.ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile) }()
	} else {
		go func() { served <- s.srv.Serve(s.ln) }()
	}
	s.log.Info().Str("addr", s.ln.Addr().String()).Str("scheme", scheme).Int("sources", len(s.sources)).Msg("collecting events on POST " + EventsPath)
	select {
	case err := <-served:
		return fmt.Errorf("ingest http: %w", err)
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.QueueTimeout+s.cfg.ProduceTimeout+5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		_ = s.srv.Close()
		err = fmt.Errorf("ingest http: shutting down: %w", err)
	}
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// origin is where a source's rejects say they came from.
func (src *source) origin() deadletter.Origin {
	return deadletter.Origin{Source: src.cfg.Name, Collector: "http", Tenant: src.cfg.Tenant}
}
