package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
	"github.com/trailwatch/trailwatch/sink"
	"github.com/trailwatch/trailwatch/sink/enrich"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

func newSinkCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "sink",
		Short: "Store crm.activity, crm.alerts, crm.actions and dead letters in ClickHouse",
		Long: `Consumes crm.activity, crm.alerts, crm.actions and the dead-letter topic as
the consumer group sink.group and stores them in ClickHouse (audit_events,
alerts, actions, dead_letters),
committing Kafka offsets only after ClickHouse acknowledged the rows. Events
are enriched (geo, directory) and hash-chained, with signed checkpoints
(trailwatch verify checks them). Records that cannot be decoded go to the
dead-letter topic. See docs/STORAGE.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			return runRoles(cmd.Context(), cfg, logger(cfg), map[string]role{"sink": runSink})
		},
	}
}

// runSink is the sink role.
func runSink(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, health *telemetry.Server) error {
	if err := errors.Join(cfg.Kafka.Validate(), cfg.ClickHouse.Validate(), cfg.Sink.Validate(), cfg.Storage.Validate()); err != nil {
		return err
	}
	st, err := chstore.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := prepareStorage(ctx, st, cfg, log); err != nil {
		return err
	}
	deps, closeDeps, err := sinkDeps(cfg, log)
	if err != nil {
		return err
	}
	defer closeDeps()
	if err := kafka.EnsureTopics(ctx, cfg.Kafka); err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	prod, err := kafka.NewProducer(cfg.Kafka, log, reg)
	if err != nil {
		return err
	}
	defer prod.Close()
	deps.DeadLetter, err = deadletter.NewWriter(prod, cfg.Kafka.Topics.DeadLetter.Name, "sink", reg)
	if err != nil {
		return err
	}
	tp := cfg.Kafka.Topics
	s, err := sink.New(st, cfg.Sink, sink.Topics{Activity: tp.Activity.Name, Alerts: tp.Alerts.Name, Actions: tp.Actions.Name, DeadLetter: tp.DeadLetter.Name}, deps, log, reg)
	if err != nil {
		return err
	}
	c, err := s.Consumer(cfg.Kafka, reg)
	if err != nil {
		return err
	}
	if health != nil {
		health.AddCheck("sink-consumer", c.Ready)
	}
	return s.Run(ctx, c)
}

// prepareStorage applies migrations and retention, or, when the sink may
// not (sink.migrate_on_start off), checks that an administrator did.
func prepareStorage(ctx context.Context, st *chstore.Store, cfg *Config, log zerolog.Logger) error {
	if cfg.Sink.MigrateOnStart {
		_, err := sink.Migrate(ctx, st, cfg.Storage, log)
		return err
	}
	ms, err := chstore.LoadMigrations(chschema.Migrations)
	if err != nil {
		return err
	}
	pending, err := st.Pending(ctx, ms)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("migrations %v are not applied and sink.migrate_on_start is off: run trailwatch migrate as an administrator first", pending)
	}
	return nil
}

// sinkDeps loads the signing key and the enrichment sources.
func sinkDeps(cfg *Config, log zerolog.Logger) (sink.Deps, func(), error) {
	var deps sink.Deps
	keyFile, create := cfg.Sink.Integrity.KeyFile, false
	if keyFile == "" {
		keyFile, create = filepath.Join(cfg.DataDir, "integrity", "checkpoint.key"), true
	}
	signer, created, err := integrity.LoadSigner(keyFile, create)
	if err != nil {
		return deps, nil, err
	}
	if created {
		log.Warn().Str("key_file", keyFile).Str("key_id", signer.KeyID()).
			Msg("created a new checkpoint signing key; keep it safe and give auditors its public half (trailwatch verify --print-public-key)")
	}
	deps.Signer = signer
	if cfg.Sink.GeoIPDatabase != "" {
		if deps.Geo, err = enrich.OpenGeo(cfg.Sink.GeoIPDatabase); err != nil {
			return deps, nil, err
		}
	}
	if cfg.Sink.DirectoryFile != "" {
		if deps.Directory, err = enrich.LoadDirectory(cfg.Sink.DirectoryFile); err != nil {
			if deps.Geo != nil {
				deps.Geo.Close()
			}
			return deps, nil, err
		}
		log.Info().Int("entries", deps.Directory.Len()).Msg("directory loaded")
	}
	return deps, func() {
		if deps.Geo != nil {
			deps.Geo.Close()
		}
	}, nil
}
