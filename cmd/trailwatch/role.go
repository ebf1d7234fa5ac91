package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// A role is one stage of the pipeline running until ctx ends, then
// shutting down gracefully (flushing and committing what is done). Each
// role subcommand (`trailwatch sink`, …) runs one role with its own
// telemetry endpoint; `trailwatch run` runs them all in one process with a
// shared registry. Readiness checks go to health.
type role func(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, health *telemetry.Server) error

// runRoles runs roles until ctx ends or one fails, serving /metrics,
// /healthz and /readyz on cfg.Metrics.Listen meanwhile.
func runRoles(ctx context.Context, cfg *Config, log zerolog.Logger, roles map[string]role) error {
	reg := telemetry.NewRegistry()
	health := telemetry.NewServer(cfg.Metrics.Listen, reg, log)
	if cfg.Metrics.Listen != "" {
		if err := health.Start(); err != nil {
			return fmt.Errorf("metrics endpoint: %w", err)
		}
		log.Info().Str("addr", health.Addr()).Msg("metrics, healthz and readyz listening")
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = health.Shutdown(sctx)
		}()
	}
	g, gctx := errgroup.WithContext(ctx)
	for name, r := range roles {
		rlog := log.With().Str("role", name).Logger()
		g.Go(func() error {
			if err := r(gctx, cfg, rlog, reg, health); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
	}
	return g.Wait()
}
