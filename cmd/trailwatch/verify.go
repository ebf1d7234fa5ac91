package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

func newVerifyCmd(a *app) *cobra.Command {
	var (
		tenant, from, to, format string
		keyFiles                 []string
		printPublic              bool
	)
	cmd := &cobra.Command{
		Use:   "verify --tenant T --from TIME --to TIME",
		Short: "Check that a tenant's stored events are exactly what the sink chained and signed",
		Long: `Recomputes the hash chains of a tenant's audit_events from ClickHouse and
checks them against the signed checkpoints, for the events with times in
[--from, --to]. Every row changed, deleted or inserted out of band is reported
with its partition, offset and event id; the command fails when any is found.
Times are RFC 3339 (2026-11-03T00:00:00Z) or dates (2026-11-03). The public
keys default to the sink's key file (sink.integrity.key_file). See
docs/STORAGE.md, "Tamper evidence".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			defaultKey := cfg.Sink.Integrity.KeyFile
			if defaultKey == "" {
				defaultKey = filepath.Join(cfg.DataDir, "integrity", "checkpoint.key")
			}
			if printPublic {
				s, _, err := integrity.LoadSigner(defaultKey, false)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(integrity.PublicKeyPEM(s.Public()))
				return err
			}
			if tenant == "" {
				return fmt.Errorf("--tenant is required")
			}
			fromT, err := parseTime("--from", from)
			if err != nil {
				return err
			}
			toT, err := parseTime("--to", to)
			if err != nil {
				return err
			}
			if len(to) == len("2006-01-02") {
				toT = toT.Add(24*time.Hour - time.Millisecond)
			}
			if toT.Before(fromT) {
				return fmt.Errorf("--to %s is before --from %s", to, from)
			}
			if len(keyFiles) == 0 {
				keyFiles = []string{defaultKey}
			}
			keys, err := integrity.LoadPublicKeys(keyFiles...)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := chstore.Open(ctx, cfg.ClickHouse, logger(cfg))
			if err != nil {
				return err
			}
			defer st.Close()
			opts := integrity.Options{Keys: keys}
			if d := cfg.Storage.Retention.EventsDays; d > 0 {
				opts.Horizon = time.Now().AddDate(0, 0, -d)
			}
			rep, err := integrity.Verify(ctx, st, tenant, fromT, toT, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				if rep.Problems == nil {
					rep.Problems = []integrity.Problem{}
				}
				if err := json.NewEncoder(out).Encode(rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "tenant %s, events %s to %s: %d rows in %d signed segments verified; %d rows after the last checkpoint (links checked, not yet signed); %d rows missing past the retention horizon\n",
					tenant, fromT.Format(time.RFC3339), toT.Format(time.RFC3339), rep.Rows, rep.Checkpoints, rep.Unsigned, rep.Expired)
				for _, p := range rep.Problems {
					fmt.Fprintln(out, p.String())
				}
			}
			if len(rep.Problems) > 0 {
				return fmt.Errorf("%d problems found", len(rep.Problems))
			}
			if format != "json" {
				fmt.Fprintln(out, "OK: no row changed, deleted or inserted out of band")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant to verify")
	f.StringVar(&from, "from", "", "start of the event-time window (RFC 3339 or a date)")
	f.StringVar(&to, "to", "", "end of the event-time window (RFC 3339 or a date, inclusive)")
	f.StringSliceVar(&keyFiles, "public-key", nil, "PEM public key file (or the private key file); repeat for rotated keys")
	f.StringVar(&format, "format", "text", "output: text or json")
	f.BoolVar(&printPublic, "print-public-key", false, "print the public half of the sink's signing key (PEM) and exit")
	return cmd
}

// parseTime reads an RFC 3339 time or a date (UTC midnight).
func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s is required", flag)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want RFC 3339 (2026-11-03T00:00:00Z) or a date (2026-11-03)", flag, s)
}
