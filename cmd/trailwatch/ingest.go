package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/checkpoint"
	"github.com/trailwatch/trailwatch/ingest/filein"
	"github.com/trailwatch/trailwatch/ingest/httpin"
	"github.com/trailwatch/trailwatch/ingest/poll"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// IngestConfig configures the collectors.
type IngestConfig struct {
	MaxAge     time.Duration `yaml:"max_age" doc:"Live path: events older than this are refused (to the dead-letter topic); backfill sources and ingest file --backfill accept any age."`
	MaxFuture  time.Duration `yaml:"max_future" doc:"Events more than this ahead of the ingest clock are refused."`
	RunPollers bool          `yaml:"run_pollers" doc:"trailwatch ingest http (and trailwatch run) also runs every poller of ingest.pollers; otherwise run them with trailwatch ingest poll."`
	File       filein.Config `yaml:"file"`
	HTTP       httpin.Config `yaml:"http"`
	Pollers    []poll.Config `yaml:"pollers" doc:"Pull collectors (Salesforce Event Log Files, HubSpot audit logs), each with its name, tenant, vendor and credentials (docs/INGEST.md)."`
}

func defaultIngestConfig() IngestConfig {
	return IngestConfig{
		MaxAge:    ingest.DefaultLimits().MaxAge,
		MaxFuture: ingest.DefaultLimits().MaxFuture,
		File:      filein.DefaultConfig(),
		HTTP:      httpin.DefaultConfig(),
	}
}

// Validate reports every problem of the ingest section at once.
func (c IngestConfig) Validate() error {
	var errs []error
	if c.MaxAge < 0 || c.MaxFuture <= 0 {
		errs = append(errs, fmt.Errorf("ingest.max_age, max_future: max_age must not be negative and max_future must be positive (%s, %s)", c.MaxAge, c.MaxFuture))
	}
	errs = append(errs, c.File.Validate(), c.HTTP.Validate())
	seen := map[string]bool{}
	for i, p := range c.Pollers {
		if err := p.WithDefaults().Validate(fmt.Sprintf("ingest.pollers[%d]", i)); err != nil {
			errs = append(errs, err)
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("ingest.pollers[%d].name: %q is used twice", i, p.Name))
		}
		seen[p.Name] = true
	}
	return errors.Join(errs...)
}

func (c IngestConfig) limits() ingest.Limits {
	return ingest.Limits{MaxAge: c.MaxAge, MaxFuture: c.MaxFuture}
}

// checkpointDir is where the collectors keep their positions.
func checkpointDir(cfg *Config) string { return filepath.Join(cfg.DataDir, "ingest", "checkpoints") }

// publisher connects to Kafka (making sure the topics exist) and returns
// the producer, the publisher over it (resolving identities when
// configured), and the function that stops both: call it when done.
func publisher(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer) (*kafka.Producer, *ingest.Publisher, func(), error) {
	ectx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := kafka.EnsureTopics(ectx, cfg.Kafka); err != nil {
		return nil, nil, nil, fmt.Errorf("kafka: %w", err)
	}
	p, err := kafka.NewProducer(cfg.Kafka, log, reg)
	if err != nil {
		return nil, nil, nil, err
	}
	stopResolving := func() {}
	pub, err := ingest.NewPublisher(p, cfg.Kafka.Topics, reg)
	if err == nil {
		stopResolving, err = resolveIdentities(ctx, cfg, pub, log, reg)
	}
	if err != nil {
		_ = p.Close()
		return nil, nil, nil, err
	}
	return p, pub, func() { stopResolving(); _ = p.Close() }, nil
}

// runIngestHTTP is the HTTP collector role (and, with ingest.run_pollers,
// the pollers): it serves until ctx ends, then answers the requests in
// flight and closes the producer.
func runIngestHTTP(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, health *telemetry.Server) error {
	if err := cfg.Ingest.Validate(); err != nil {
		return err
	}
	log = log.With().Str("component", "ingest").Logger()
	p, pub, stop, err := publisher(ctx, cfg, log, reg)
	if err != nil {
		return err
	}
	defer stop()
	health.AddCheck("kafka", p.Ready)
	srv, err := httpin.New(cfg.Ingest.HTTP, pub, cfg.Ingest.limits(), log, reg, health.ProbeHandler())
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx) })
	if cfg.Ingest.RunPollers && len(cfg.Ingest.Pollers) > 0 {
		g.Go(func() error { return runPollers(gctx, cfg, log, reg, pub, nil) })
	}
	return g.Wait()
}

// runIngestPollers is the pollers' role on their own (trailwatch ingest
// poll): every poller of ingest.pollers, or those named.
func runIngestPollers(names []string) role {
	return func(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, health *telemetry.Server) error {
		if err := cfg.Ingest.Validate(); err != nil {
			return err
		}
		log = log.With().Str("component", "ingest").Logger()
		p, pub, stop, err := publisher(ctx, cfg, log, reg)
		if err != nil {
			return err
		}
		defer stop()
		health.AddCheck("kafka", p.Ready)
		return runPollers(ctx, cfg, log, reg, pub, names)
	}
}

// runPollers runs the configured pollers (all, or those named) until ctx
// ends.
func runPollers(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, pub *ingest.Publisher, names []string) error {
	store, err := checkpoint.Open(checkpointDir(cfg))
	if err != nil {
		return err
	}
	var pollers []*poll.Poller
	found := map[string]bool{}
	for _, pc := range cfg.Ingest.Pollers {
		if len(names) > 0 && !contains(names, pc.Name) {
			continue
		}
		found[pc.Name] = true
		p, err := poll.New(pc, pub, store, log, reg)
		if err != nil {
			return err
		}
		pollers = append(pollers, p)
	}
	for _, n := range names {
		if !found[n] {
			return fmt.Errorf("no poller named %q in ingest.pollers", n)
		}
	}
	if len(pollers) == 0 {
		return errors.New("ingest.pollers: no poller is configured")
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range pollers {
		g.Go(func() error { return p.Run(gctx) })
	}
	return g.Wait()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fileRun is one trailwatch ingest file invocation.
type fileRun struct {
	path     string
	source   ingest.Source
	follow   bool
	stdin    io.Reader
	rejected io.Writer // where refused records are reported, one a line
}

// runIngestFile reads a file, directory or standard input into Kafka and
// returns what it published.
func runIngestFile(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, r fileRun) (filein.Summary, error) {
	if err := cfg.Ingest.File.Validate(); err != nil {
		return filein.Summary{}, err
	}
	parser, err := ingest.NewParser(r.source, "", cfg.Ingest.limits())
	if err != nil {
		return filein.Summary{}, err
	}
	_, pub, stop, err := publisher(ctx, cfg, log, reg)
	if err != nil {
		return filein.Summary{}, err
	}
	defer stop()
	opts := filein.Options{Follow: r.follow, OnReject: func(file string, rj ingest.Rejected) {
		prefix := "" // a file of a directory is named
		if file != r.path {
			prefix = file + ": "
		}
		fmt.Fprintf(r.rejected, "%sline %d: %s\n", prefix, rj.Line, strings.ReplaceAll(rj.Detail, "\n", "; "))
	}}
	if r.follow {
		if opts.Store, err = checkpoint.Open(checkpointDir(cfg)); err != nil {
			return filein.Summary{}, err
		}
	}
	c, err := filein.New(pub, parser, cfg.Ingest.File, opts, log)
	if err != nil {
		return filein.Summary{}, err
	}
	return c.Run(ctx, r.path, r.stdin)
}
