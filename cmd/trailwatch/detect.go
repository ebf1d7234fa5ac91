package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect/runner"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

func newDetectCmd(a *app) *cobra.Command {
	var rules, engineConfig, group string
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Run the detector: the rules over crm.activity, alerts to crm.alerts, actions to crm.actions",
		Long: `detect runs the detection rules over the crm.activity topic as a member of the
detectors' consumer group (run several for more partitions' worth of
throughput), writing alerts to crm.alerts and requested actions to
crm.actions. State is per partition and group key, in event time; it is
snapshotted to the detect_state topic and rebuilt after a crash, restart or
rebalance so that the alerts are exactly those of an uninterrupted run
(docs/DETECTION-RUNTIME.md).

Rules reload without a restart when their files change, and on SIGHUP; a
rule set that fails to load leaves the running one in place and the error,
with file and line, is logged. Settings: the detect and kafka sections of the
configuration (docs/CONFIG.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			if rules != "" {
				cfg.Detect.Rules = rules
			}
			if engineConfig != "" {
				cfg.Detect.EngineConfig = engineConfig
			}
			if group != "" {
				cfg.Detect.Group = group
			}
			log := logger(cfg)
			if limit, source := runner.SetMemoryLimit(cfg.Detect.MemoryLimit); limit > 0 {
				log.Info().Int64("bytes", limit).Str("from", source).Msg("memory limit for the collector")
			}
			return runRoles(cmd.Context(), cfg, log, map[string]role{"detect": runDetect})
		},
	}
	f := cmd.Flags()
	f.StringVar(&rules, "rules", "", "rules directory (default detect.rules)")
	f.StringVar(&engineConfig, "engine-config", "", "detector configuration file: lateness, limits, calendars, tenants (default detect.engine_config)")
	f.StringVar(&group, "group", "", "consumer group (default detect.group)")
	return cmd
}

// runDetect is the detector role. SIGHUP reloads the rules: signal.Notify
// delivers to every channel registered, so other roles may listen too.
func runDetect(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, health *telemetry.Server) error {
	r, err := runner.New(cfg.Detect, cfg.Kafka, log, reg)
	if err != nil {
		return err
	}
	health.AddCheck("detect", r.Ready)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = r.Reload() // logged and counted by the runner
			}
		}
	}()
	return r.Run(ctx)
}
