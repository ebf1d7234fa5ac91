package embedded

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chdb"
	"github.com/trailwatch/trailwatch/internal/chserver"
)

// ClickHouse is the embedded ClickHouse engine serving the ClickHouse HTTP
// interface.
type ClickHouse struct {
	eng    *chdb.Engine
	srv    *chserver.Server
	cancel context.CancelFunc
	done   chan error
}

// StartClickHouse opens the engine on dir (locking it), and serves it on
// cfg.Listen until Close.
func StartClickHouse(ctx context.Context, dir string, cfg chserver.Config, log zerolog.Logger, reg prometheus.Registerer) (*ClickHouse, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	eng, err := chdb.Open(chdb.Options{Path: filepath.Clean(dir)})
	if err != nil {
		return nil, err
	}
	srv, err := chserver.New(ctx, eng, cfg, log, reg)
	if err != nil {
		eng.Close()
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		eng.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &ClickHouse{eng: eng, srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- srv.Serve(sctx) }()
	return c, nil
}

// URL is where the HTTP interface listens, e.g. http://127.0.0.1:8123.
func (c *ClickHouse) URL() string { return c.srv.URL() }

// Addr is the listener's host:port.
func (c *ClickHouse) Addr() string { return c.srv.Addr() }

// Done is closed (with Serve's error) if the server stops on its own.
func (c *ClickHouse) Done() <-chan error { return c.done }

// Close stops serving (letting requests in flight finish) and closes the
// engine, which must happen before the process exits.
func (c *ClickHouse) Close() error {
	c.cancel()
	err := <-c.done
	c.done <- err // Done stays readable
	return errors.Join(err, c.eng.Close())
}
