package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/identity"
	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink"
)

// resolveIdentities makes pub resolve every event against the directory
// file of identity.directory (nothing when unset), reloading it until ctx
// ends or stop is called; stop returns once the reloading has stopped.
func resolveIdentities(ctx context.Context, cfg *Config, pub *ingest.Publisher, log zerolog.Logger, reg prometheus.Registerer) (stop func(), err error) {
	if cfg.Identity.Directory == "" {
		return func() {}, nil
	}
	if err := cfg.Identity.Validate(); err != nil {
		return nil, err
	}
	r, err := identity.NewResolver(cfg.Identity, reg)
	if err != nil {
		return nil, err
	}
	w, err := identity.NewWatcher(cfg.Identity, r, log, reg)
	if err != nil {
		return nil, err
	}
	pub.SetResolver(r)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(wctx)
	}()
	return func() { cancel(); <-done }, nil
}

func newIdentityCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Directory snapshots: import one (joiners, leavers, moves), check one, list unresolved accounts",
		Long: `One person has different accounts in Salesforce, HubSpot and Dynamics 365;
the directory (docs/IDENTITY.md) says who is behind each. The ingest roles
resolve every event against identity.directory; these commands import a
snapshot into ClickHouse with its history, check a file, and list the
accounts events came from that no directory entry claims.`,
	}
	cmd.AddCommand(newIdentityImportCmd(a), newIdentityCheckCmd(), newIdentityUnresolvedCmd(a))
	return cmd
}

func newIdentityCheckCmd() *cobra.Command {
	var format string
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a directory file and list every problem (file, line or position, field)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := identity.ParseFormat(format)
			if err != nil {
				return err
			}
			s, err := identity.ParseFile(args[0], f)
			if err != nil {
				return err
			}
			printSnapshot(cmd.OutOrStdout(), s)
			return nil
		},
	}
}

func printSnapshot(out io.Writer, s *identity.Snapshot) {
	accounts := 0
	for _, p := range s.People {
		accounts += len(p.Accounts)
	}
	fmt.Fprintf(out, "%d people, %d accounts, digest %s\n", len(s.People), accounts, s.Digest[:16])
	for _, c := range s.Conflicts {
		fmt.Fprintf(out, "conflict: %s is claimed by %v; it resolves nobody\n", c.Email, c.People)
	}
}

func newIdentityImportCmd(a *app) *cobra.Command {
	var (
		format, tenant string
		dryRun         bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Validate a directory snapshot, store it, and publish what changed as events",
		Long: `Validates FILE (refusing it with every problem listed), compares it with the
tenant's newest stored snapshot, publishes each joiner, leaver and move as an
event on crm.activity (event.category configuration, source.system
directory), then stores the snapshot in ClickHouse (directory_people,
directory_snapshots). The first snapshot of a tenant is the baseline: it is
stored, and publishes nothing. An unchanged directory is not stored again.
Running an import again after a failure publishes the same event ids.`,
		Example: `  trailwatch identity import people.csv --tenant acme
  trailwatch identity import users.json --format scim --tenant acme --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			f, err := identity.ParseFormat(format)
			if err != nil {
				return err
			}
			if tenant == "" {
				return errors.New("--tenant: required (the CRM organisation the directory belongs to)")
			}
			return importDirectory(cmd.Context(), cfg, args[0], f, tenant, dryRun, time.Now(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "csv, json or scim (default: from the file)")
	cmd.Flags().StringVar(&tenant, "tenant", "", "the tenant the directory belongs to (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and print the changes; store and publish nothing")
	return cmd
}

// importDirectory is `trailwatch identity import`.
func importDirectory(ctx context.Context, cfg *Config, path string, f identity.Format, tenant string, dryRun bool, now time.Time, out io.Writer) error {
	s, err := identity.ParseFile(path, f)
	if err != nil {
		return err
	}
	if f == "" {
		f = identity.Format("auto")
	}
	printSnapshot(out, s)
	log := logger(cfg)
	st, err := chstore.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if !dryRun {
		if _, err := sink.Migrate(ctx, st, cfg.Storage, log); err != nil {
			return err
		}
	}
	prev, prevMeta, found, err := identity.Latest(ctx, st, tenant)
	if err != nil && !dryRun {
		return err
	}
	if found && prev.Digest == s.Digest {
		fmt.Fprintf(out, "unchanged since snapshot %s (%s): nothing stored or published\n", prevMeta.ID, prevMeta.ImportedAt.Format(time.RFC3339))
		return nil
	}
	var changes []identity.Change
	if found {
		changes = identity.Diff(prev, s)
	}
	meta := identity.NewStored(tenant, s, filepath.Base(path), f, now, changes)
	for _, c := range changes {
		fmt.Fprintf(out, "%s %s\n", c.Kind, c.Person.ID)
	}
	fmt.Fprintf(out, "%d joiners, %d leavers, %d moves", meta.Joiners, meta.Leavers, meta.Moves)
	if !found {
		fmt.Fprint(out, " (first snapshot of the tenant: the baseline, no events)")
	}
	fmt.Fprintln(out)
	if dryRun {
		return nil
	}
	if err := publishChanges(ctx, cfg, identity.Events(changes, tenant, s.Digest, now), log); err != nil {
		return err
	}
	if err := identity.Save(ctx, st, meta, s); err != nil {
		return fmt.Errorf("%w (the change events are published; importing again publishes the same ids)", err)
	}
	fmt.Fprintf(out, "stored snapshot %s, published %d events\n", meta.ID, len(changes))
	return nil
}

// publishChanges publishes the directory's change events through the same
// publisher the collectors use (keys, size limit, acknowledgement).
func publishChanges(ctx context.Context, cfg *Config, evs []event.Event, log zerolog.Logger) error {
	if len(evs) == 0 {
		return nil
	}
	opts := event.DefaultOptions()
	for i := range evs {
		if err := event.Validate(&evs[i], opts); err != nil {
			return fmt.Errorf("directory change event for %s: %w", evs[i].User.ID, err)
		}
	}
	ectx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := kafka.EnsureTopics(ectx, cfg.Kafka); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	p, err := kafka.NewProducer(cfg.Kafka, log, nil)
	if err != nil {
		return err
	}
	defer p.Close()
	pub, err := ingest.NewPublisher(p, cfg.Kafka.Topics, nil)
	if err != nil {
		return err
	}
	b := pub.NewBatch(identity.SourceSystem, deadletter.Origin{Source: identity.SourceSystem, Collector: "identity-import"})
	for i := range evs {
		if b.AddEvent(&evs[i], opts.MaxBytes, nil, 0, i) == ingest.Refused {
			return fmt.Errorf("directory change event for %s: %s", evs[i].User.ID, b.Rejected()[len(b.Rejected())-1].Detail)
		}
	}
	if err := pub.Publish(ctx, b); err != nil {
		return fmt.Errorf("publishing directory changes: %w", err)
	}
	return nil
}

func newIdentityUnresolvedCmd(a *app) *cobra.Command {
	var (
		tenant, since, format string
		limit                 int
	)
	cmd := &cobra.Command{
		Use:   "unresolved",
		Short: "List the accounts stored events came from that no directory entry claims",
		Long: `Reads audit_events in ClickHouse for events stored without a person (ingest
could not resolve their account), grouped by tenant, source system and account,
most events first. Add the accounts to the directory (or mark them as
integrations with an owner) and import it again.`,
		Example: `  trailwatch identity unresolved --tenant acme --since 168h`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format: %q, want table or json", format)
			}
			d, err := time.ParseDuration(since)
			if err != nil || d <= 0 {
				return fmt.Errorf("--since: %q is not a positive duration (168h)", since)
			}
			_, st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := unresolvedAccounts(cmd.Context(), st, tenant, time.Now().Add(-d), limit)
			if err != nil {
				return err
			}
			return printUnresolved(cmd.OutOrStdout(), rows, format)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant (default: all)")
	cmd.Flags().StringVar(&since, "since", "168h", "how far back to look")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many accounts")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

// unresolvedRow is one account stored events came from without a person.
type unresolvedRow struct {
	Tenant string    `json:"tenant"`
	System string    `json:"source_system"`
	UserID string    `json:"user_id"`
	Name   string    `json:"user_name,omitempty"`
	Events uint64    `json:"events"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
}

func unresolvedAccounts(ctx context.Context, st *chstore.Store, tenant string, since time.Time, limit int) ([]unresolvedRow, error) {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"t": chstore.StringParam(tenant), "since": since.UTC().Format("2006-01-02 15:04:05.000"),
		"limit": fmt.Sprint(max(limit, 1)), "dir": identity.SourceSystem,
	}))
	rows, err := st.Query(qctx, `SELECT tenant, source_system, user_id, anyLast(user_name), uniqExact(id) AS events,
		min(timestamp), max(timestamp)
		FROM audit_events
		WHERE person_id = '' AND ({t:String} = '' OR tenant = {t:String}) AND source_system != {dir:String}
		  AND timestamp >= {since:DateTime64(3, 'UTC')}
		GROUP BY tenant, source_system, user_id
		ORDER BY events DESC, tenant, source_system, user_id
		LIMIT {limit:UInt32}`)
	if err != nil {
		return nil, fmt.Errorf("listing unresolved accounts: %w", err)
	}
	defer rows.Close()
	var out []unresolvedRow
	for rows.Next() {
		var r unresolvedRow
		if err := rows.Scan(&r.Tenant, &r.System, &r.UserID, &r.Name, &r.Events, &r.First, &r.Last); err != nil {
			return nil, fmt.Errorf("reading unresolved accounts: %w", err)
		}
		r.First, r.Last = r.First.UTC(), r.Last.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading unresolved accounts: %w", err)
	}
	return out, nil
}

func printUnresolved(out io.Writer, rows []unresolvedRow, format string) error {
	if format == "json" {
		enc := json.NewEncoder(out)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSOURCE\tUSER ID\tUSER NAME\tEVENTS\tFIRST\tLAST")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Tenant, r.System, r.UserID, r.Name, r.Events,
			r.First.Format(time.RFC3339), r.Last.Format(time.RFC3339))
	}
	return tw.Flush()
}
