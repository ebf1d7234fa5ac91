package oncall

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// Server serves an API on the configured address, over TLS when a
// certificate is configured.
type Server struct {
	cfg APIConfig
	srv *http.Server
	ln  net.Listener
	log zerolog.Logger
}

// Listen validates cfg and binds its address (port 0 picks one; Addr
// says which), so a caller knows the API is reachable before Serve.
func Listen(cfg APIConfig, h http.Handler, log zerolog.Logger) (*Server, error) {
	if cfg.Listen == "" {
		return nil, errors.New("respond.api.listen: no address to serve the approval API on")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log.With().Str("component", "approval-api").Logger()}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      2 * time.Minute, // an approval reads the look-back from Kafka
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("respond.api.listen: %w", err)
	}
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("respond.api.tls: %w", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.ln = ln
	return s, nil
}

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts down (in-flight requests get
// five seconds).
func (s *Server) Serve(ctx context.Context) error {
	s.log.Info().Str("addr", s.Addr()).Bool("tls", s.cfg.TLS.CertFile != "").Msg("approval API listening")
	done := make(chan error, 1)
	go func() { done <- s.srv.Serve(s.ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("approval API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("approval API: %w", err)
	}
	return nil
}
