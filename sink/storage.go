package sink

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/chstore"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
)

// StorageConfig is how long ClickHouse keeps what, and who may read it.
// `trailwatch migrate` and the sink (with sink.migrate_on_start) apply it
// on every start.
type StorageConfig struct {
	Retention RetentionConfig `yaml:"retention"`
	Access    AccessConfig    `yaml:"access"`
}

// RetentionConfig sets each table's TTL, in days; 0 keeps rows forever.
type RetentionConfig struct {
	EventsDays      int               `yaml:"events_days" doc:"Days audit_events and alert_event_hits keep a row, counted from its event time, and dead_letters a rejected input, counted from when it was received."`
	AlertsDays      int               `yaml:"alerts_days" doc:"Days alerts keep a row, counted from triggered_at."`
	ActionsDays     int               `yaml:"actions_days" doc:"Days actions keep a status record, counted from requested_at."`
	RollupsDays     int               `yaml:"rollups_days" doc:"Days the roll-up tables keep a bucket."`
	CheckpointsDays int               `yaml:"checkpoints_days" doc:"Days integrity checkpoints are kept (keep them at least as long as events, or verify has nothing to check old rows against)."`
	HeadsDays       int               `yaml:"heads_days" doc:"Days integrity_heads keeps the sink's per-batch chain states (needed only to resume after a restart or rebalance)."`
	Tenants         []TenantRetention `yaml:"tenants" doc:"Per-tenant overrides of events_days, alerts_days and actions_days (0 in an override means: the default)."`
	ColdVolume      string            `yaml:"cold_volume" doc:"Volume of storage_policy that audit_events parts move to after cold_after_days (a ClickHouse server with tiered storage; see docs/STORAGE.md); empty: no move."`
	ColdAfterDays   int               `yaml:"cold_after_days" doc:"Days after which audit_events rows move to cold_volume."`
	StoragePolicy   string            `yaml:"storage_policy" doc:"Storage policy of audit_events that holds cold_volume; set with cold_volume."`
}

// TenantRetention overrides retention for one tenant.
type TenantRetention struct {
	Tenant      string `yaml:"tenant"`
	EventsDays  int    `yaml:"events_days"`
	AlertsDays  int    `yaml:"alerts_days"`
	ActionsDays int    `yaml:"actions_days"`
}

// AccessConfig names the roles and the tenant setting the access-control
// migration creates on a ClickHouse server (docs/STORAGE.md).
type AccessConfig struct {
	WriterRole    string `yaml:"writer_role" doc:"Role of the sink's user: inserts, and reads only its own bookkeeping."`
	AnalystRole   string `yaml:"analyst_role" doc:"Role that reads every table and view."`
	AuditorRole   string `yaml:"auditor_role" doc:"Role that reads the masked views and roll-ups only."`
	TenantRole    string `yaml:"tenant_role" doc:"Role that restricts its holder to the tenant named by tenant_setting."`
	TenantSetting string `yaml:"tenant_setting" doc:"Custom setting (server prefix SQL_ by default) holding a tenant-scoped user's tenant, set CONST on the user."`
}

// DefaultStorageConfig keeps events 400 days and alerts and actions three
// years.
func DefaultStorageConfig() StorageConfig {
	return StorageConfig{
		Retention: RetentionConfig{EventsDays: 400, AlertsDays: 1095, ActionsDays: 1095, RollupsDays: 400, CheckpointsDays: 1095, HeadsDays: 14},
		Access: AccessConfig{WriterRole: "trailwatch_writer", AnalystRole: "trailwatch_analyst", AuditorRole: "trailwatch_auditor",
			TenantRole: "trailwatch_tenant", TenantSetting: "SQL_trailwatch_tenant"},
	}
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Validate reports every problem at once, naming the setting.
func (c *StorageConfig) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("storage.%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	r := c.Retention
	for name, v := range map[string]int{"events_days": r.EventsDays, "alerts_days": r.AlertsDays, "actions_days": r.ActionsDays,
		"rollups_days": r.RollupsDays, "checkpoints_days": r.CheckpointsDays, "heads_days": r.HeadsDays, "cold_after_days": r.ColdAfterDays} {
		if v < 0 || v > 36500 {
			bad("retention."+name, "must be between 0 (forever) and 36500, got %d", v)
		}
	}
	if r.CheckpointsDays != 0 && (r.EventsDays == 0 || r.CheckpointsDays < r.EventsDays) {
		bad("retention.checkpoints_days", "must be 0 (forever) or at least events_days (%d), or old rows cannot be verified", r.EventsDays)
	}
	seen := map[string]bool{}
	for i, t := range r.Tenants {
		where := fmt.Sprintf("retention.tenants[%d]", i)
		if t.Tenant == "" {
			bad(where+".tenant", "required")
		}
		if seen[t.Tenant] {
			bad(where+".tenant", "%q is listed twice", t.Tenant)
		}
		seen[t.Tenant] = true
		for name, v := range map[string]int{"events_days": t.EventsDays, "alerts_days": t.AlertsDays, "actions_days": t.ActionsDays} {
			if v < 0 || v > 36500 {
				bad(where+"."+name, "must be between 0 and 36500, got %d", v)
			}
		}
	}
	if (r.ColdVolume == "") != (r.StoragePolicy == "") {
		bad("retention.cold_volume", "set cold_volume and storage_policy together")
	}
	if r.ColdVolume != "" && (r.ColdAfterDays < 1 || (r.EventsDays != 0 && r.ColdAfterDays >= r.EventsDays)) {
		bad("retention.cold_after_days", "must be at least 1 and below events_days (%d), got %d", r.EventsDays, r.ColdAfterDays)
	}
	for name, v := range map[string]string{"writer_role": c.Access.WriterRole, "analyst_role": c.Access.AnalystRole,
		"auditor_role": c.Access.AuditorRole, "tenant_role": c.Access.TenantRole, "tenant_setting": c.Access.TenantSetting} {
		if !identifier.MatchString(v) {
			bad("access."+name, "%q is not a plain identifier (letters, digits, _)", v)
		}
	}
	return errors.Join(errs...)
}

// MigrationVars are the access-control migration's variables.
func (c *StorageConfig) MigrationVars() map[string]string {
	return map[string]string{
		"writer_role": c.Access.WriterRole, "analyst_role": c.Access.AnalystRole, "auditor_role": c.Access.AuditorRole,
		"tenant_role": c.Access.TenantRole, "tenant_setting": c.Access.TenantSetting,
	}
}

// Migrate applies the migrations (with the access names of cfg) and then
// the retention of cfg. Both are idempotent: every role runs it on start.
func Migrate(ctx context.Context, st *chstore.Store, cfg StorageConfig, log zerolog.Logger) (chstore.MigrateResult, error) {
	if err := cfg.Validate(); err != nil {
		return chstore.MigrateResult{}, err
	}
	ms, err := chstore.LoadMigrations(chschema.Migrations)
	if err != nil {
		return chstore.MigrateResult{}, err
	}
	res, err := st.MigrateWith(ctx, ms, chstore.MigrateOptions{Vars: cfg.MigrationVars()})
	if err != nil {
		return res, err
	}
	return res, ApplyRetention(ctx, st, cfg.Retention, log)
}

// ttlTable is one table's TTL: its time column and the days to keep.
type ttlTable struct {
	table, column string
	days          int
	perTenant     func(TenantRetention) int // nil: no per-tenant override
	cold          bool
}

// ApplyRetention sets every table's TTL from cfg, altering only tables
// whose TTL differs (a changed TTL is applied to existing parts too, which
// costs a rewrite, so it is not repeated on every start).
func ApplyRetention(ctx context.Context, st *chstore.Store, cfg RetentionConfig, log zerolog.Logger) error {
	if cfg.ColdVolume != "" {
		if err := applyStoragePolicy(ctx, st, cfg); err != nil {
			return err
		}
	}
	tables := []ttlTable{
		{"audit_events", "timestamp", cfg.EventsDays, func(t TenantRetention) int { return t.EventsDays }, true},
		{"alert_event_hits", "triggered_at", cfg.EventsDays, func(t TenantRetention) int { return t.EventsDays }, false},
		{"dead_letters", "received_at", cfg.EventsDays, func(t TenantRetention) int { return t.EventsDays }, false},
		{"alerts", "triggered_at", cfg.AlertsDays, func(t TenantRetention) int { return t.AlertsDays }, false},
		{"actions", "requested_at", cfg.ActionsDays, func(t TenantRetention) int { return t.ActionsDays }, false},
		{"rollup_activity_minute", "minute", cfg.RollupsDays, nil, false},
		{"rollup_exports_daily", "day", cfg.RollupsDays, nil, false},
		{"rollup_failed_logins_hourly", "hour", cfg.RollupsDays, nil, false},
		{"rollup_alerts_hourly", "hour", cfg.RollupsDays, nil, false},
		{"integrity_checkpoints", "signed_at", cfg.CheckpointsDays, nil, false},
		{"integrity_heads", "written_at", cfg.HeadsDays, nil, false},
	}
	for _, t := range tables {
		want := ttlExpr(t, cfg)
		have, err := currentTTL(ctx, st, t.table)
		if err != nil {
			return err
		}
		norm := ""
		if want != "" {
			if norm, err = normalizeTTL(ctx, st, t.table, want); err != nil {
				return fmt.Errorf("retention of %s: %w", t.table, err)
			}
		}
		if norm == have {
			continue
		}
		stmt := "ALTER TABLE " + t.table + " MODIFY TTL " + want
		if want == "" {
			stmt = "ALTER TABLE " + t.table + " REMOVE TTL"
		}
		if err := st.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("setting the retention of %s: %w", t.table, err)
		}
		log.Info().Str("table", t.table).Str("ttl", want).Msg("retention changed")
	}
	return nil
}

// ttlExpr is t's TTL clause, or "" to keep rows forever.
func ttlExpr(t ttlTable, cfg RetentionConfig) string {
	at := "toDateTime(" + t.column + ")"
	days := strconv.Itoa(t.days)
	if t.perTenant != nil {
		var cases []string
		for _, o := range cfg.Tenants {
			if d := t.perTenant(o); d > 0 {
				cases = append(cases, "tenant = "+quote(o.Tenant)+", "+strconv.Itoa(d))
			}
		}
		if len(cases) > 0 {
			// A tenant kept longer than the default still needs a TTL when
			// the default is forever: 0 then means "no expiry" via a far date.
			def := days
			if t.days == 0 {
				def = "36500"
			}
			days = "multiIf(" + strings.Join(cases, ", ") + ", " + def + ")"
		} else if t.days == 0 {
			return ""
		}
	} else if t.days == 0 {
		return ""
	}
	expr := at + " + toIntervalDay(" + days + ")"
	if t.cold && cfg.ColdVolume != "" {
		expr = at + " + toIntervalDay(" + strconv.Itoa(cfg.ColdAfterDays) + ") TO VOLUME " + quote(cfg.ColdVolume) + ", " + expr + " DELETE"
	}
	return expr
}

// quote is a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// currentTTL is the TTL clause of table as the server prints it in
// engine_full, or "".
func currentTTL(ctx context.Context, st *chstore.Store, table string) (string, error) {
	var full string
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"t": chstore.StringParam(table)}))
	if err := st.Conn().QueryRow(ctx, `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}`).Scan(&full); err != nil {
		return "", fmt.Errorf("reading the definition of %s: %w", table, err)
	}
	i := strings.Index(full, " TTL ")
	if i < 0 {
		return "", nil
	}
	rest := full[i+len(" TTL "):]
	if j := strings.Index(rest, " SETTINGS "); j >= 0 {
		rest = rest[:j]
	}
	return strings.TrimSpace(rest), nil
}

// normalizeTTL prints expr as the server prints TTLs, by formatting the
// ALTER that would set it.
func normalizeTTL(ctx context.Context, st *chstore.Store, table, expr string) (string, error) {
	var out string
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"q": chstore.StringParam("ALTER TABLE " + table + " MODIFY TTL " + expr)}))
	if err := st.Conn().QueryRow(ctx, `SELECT formatQuerySingleLine({q:String})`).Scan(&out); err != nil {
		return "", err
	}
	// Printed as "ALTER TABLE t (MODIFY TTL expr)".
	_, after, ok := strings.Cut(out, "(MODIFY TTL ")
	if !ok || !strings.HasSuffix(after, ")") {
		return "", fmt.Errorf("cannot read back %q", out)
	}
	return strings.TrimSpace(strings.TrimSuffix(after, ")")), nil
}

func applyStoragePolicy(ctx context.Context, st *chstore.Store, cfg RetentionConfig) error {
	var n uint64
	pctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"p": chstore.StringParam(cfg.StoragePolicy), "v": chstore.StringParam(cfg.ColdVolume)}))
	if err := st.Conn().QueryRow(pctx, `SELECT count() FROM system.storage_policies WHERE policy_name = {p:String} AND volume_name = {v:String}`).Scan(&n); err != nil {
		return fmt.Errorf("reading storage policies: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("storage.retention: the server has no storage policy %q with a volume %q; define it in the server's storage_configuration (docs/STORAGE.md) or leave cold_volume empty", cfg.StoragePolicy, cfg.ColdVolume)
	}
	var have string
	if err := st.Conn().QueryRow(ctx, `SELECT storage_policy FROM system.tables WHERE database = currentDatabase() AND name = 'audit_events'`).Scan(&have); err != nil {
		return fmt.Errorf("reading the storage policy of audit_events: %w", err)
	}
	if have == cfg.StoragePolicy {
		return nil
	}
	if err := st.Exec(ctx, "ALTER TABLE audit_events MODIFY SETTING storage_policy = "+quote(cfg.StoragePolicy)); err != nil {
		return fmt.Errorf("moving audit_events to storage policy %s: %w", cfg.StoragePolicy, err)
	}
	return nil
}
