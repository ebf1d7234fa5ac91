package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/oncall"
	"github.com/trailwatch/trailwatch/respond/stream"
)

// RespondConfig is the respond role's configuration: the responder's
// (adapters, tenants, modes, safety limits) and its Kafka loop's side by
// side under respond:, and the approval API under respond.api.
type RespondConfig struct {
	Core respond.Config   `yaml:",inline"`
	Loop stream.Config    `yaml:",inline"`
	API  oncall.APIConfig `yaml:"api" doc:"The approval API the respond role serves."`
}

func defaultRespondConfig() RespondConfig {
	return RespondConfig{Core: respond.DefaultConfig(), Loop: stream.DefaultConfig()}
}

// Validate reports every problem of the respond section at once.
func (c RespondConfig) Validate() error {
	return errors.Join(c.Core.Validate(), c.Loop.Validate(), c.API.Validate())
}

func newRespondCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "respond",
		Short: "Execute the actions on crm.actions: freezes, pages, webhooks (one member of the responders' consumer group)",
		Long: `respond consumes crm.actions as the consumer group respond.group and
executes each action exactly once in effect, in the mode and within the
limits the respond section configures (docs/RESPONSE.md). With
respond.api.listen set it also serves the approval API.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			if err := cfg.Respond.Validate(); err != nil {
				return err
			}
			return runRoles(cmd.Context(), cfg, logger(cfg), map[string]role{"respond": runRespond})
		},
	}
}

// runRespond is the respond role: the responder's consumer loop and, when
// configured, the approval API, until ctx ends.
func runRespond(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, health *telemetry.Server) error {
	rc := cfg.Respond
	if err := errors.Join(rc.Validate(), cfg.Kafka.Validate()); err != nil {
		return err
	}
	if err := kafka.EnsureTopics(ctx, cfg.Kafka); err != nil {
		return err
	}
	set, err := registry.Build(rc.Core.Adapters, registry.Options{})
	if err != nil {
		return err
	}
	producer, err := kafka.NewProducer(cfg.Kafka, log, reg)
	if err != nil {
		return err
	}
	defer producer.Close()
	rec, err := stream.NewRecorder(producer, cfg.Kafka.Topics.Actions.Name)
	if err != nil {
		return err
	}
	dlq, err := deadletter.NewWriter(producer, cfg.Kafka.Topics.DeadLetter.Name, "respond", reg)
	if err != nil {
		return err
	}
	r, err := stream.New(stream.Options{
		Loop: rc.Loop, Respond: rc.Core, Adapters: respond.FromRegistry(set), Kafka: cfg.Kafka,
		Recorder: rec, DeadLetters: dlq, Log: log, Registerer: reg,
	})
	if err != nil {
		return err
	}
	health.AddCheck("respond-consumer", r.Ready)
	health.AddCheck("kafka-producer", producer.Ready)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.Run(gctx) })
	if rc.API.Listen != "" {
		srv, err := approvalAPI(cfg, rec, log, reg)
		if err != nil {
			return err
		}
		g.Go(func() error { return srv.Serve(gctx) })
	}
	return g.Wait()
}

// approvalAPI binds the approval API; its history comes from the actions
// topic, as for `trailwatch actions`.
func approvalAPI(cfg *Config, rec respond.Recorder, log zerolog.Logger, reg prometheus.Registerer) (*oncall.Server, error) {
	approvers, err := oncall.LoadApprovers(cfg.Respond.API.Approvers)
	if err != nil {
		return nil, fmt.Errorf("respond.api.approvers: %w", err)
	}
	svc := oncall.NewService(oncall.KafkaSource{Config: cfg.Kafka}, rec, cfg.Respond.Loop.History, nil)
	api, err := oncall.NewAPI(svc, approvers, log, reg)
	if err != nil {
		return nil, err
	}
	return oncall.Listen(cfg.Respond.API, api, log)
}
