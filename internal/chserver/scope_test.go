package chserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scopeDB is a database shaped like Trailwatch's, for the scoped users:
// an events table and its masked view, a roll-up and a table without a
// tenant column; another database holds a second events table.
func scopeDB(t *testing.T) {
	t.Helper()
	for _, sql := range []string{
		"DROP DATABASE IF EXISTS scope_a", "DROP DATABASE IF EXISTS scope_b",
		"CREATE DATABASE scope_a", "CREATE DATABASE scope_b",
		"CREATE TABLE scope_a.audit_events (tenant LowCardinality(String), n UInt8, secret String) ENGINE = MergeTree ORDER BY (tenant, n)",
		`INSERT INTO scope_a.audit_events VALUES ('acme', 1, 's1'), ('acme', 2, 's2'), ('globex', 3, 's3'), ('o\'ne\\il', 4, 's4')`,
		"CREATE VIEW scope_a.audit_events_masked AS SELECT tenant, n FROM scope_a.audit_events",
		"CREATE TABLE scope_a.rollup_activity_minute (tenant LowCardinality(String), n UInt8) ENGINE = MergeTree ORDER BY tenant",
		"INSERT INTO scope_a.rollup_activity_minute VALUES ('acme', 10), ('globex', 30)",
		"CREATE TABLE scope_a.trailwatch_migrations (version UInt32) ENGINE = MergeTree ORDER BY version",
		"INSERT INTO scope_a.trailwatch_migrations VALUES (1)",
		"CREATE TABLE scope_b.audit_events (tenant String, n UInt8) ENGINE = MergeTree ORDER BY tenant",
		"INSERT INTO scope_b.audit_events VALUES ('acme', 100), ('globex', 200)",
		"CREATE VIEW scope_a.by_n AS SELECT tenant, n FROM scope_a.audit_events WHERE n > {p:UInt8}",
	} {
		admin(t, sql)
	}
	t.Cleanup(func() {
		for _, db := range []string{"scope_a", "scope_b"} {
			call(t, "POST", "", strings.NewReader("DROP DATABASE IF EXISTS "+db), "admin:"+adminPassword)
		}
	})
}

// TestTenantScope: a reader scoped to a tenant sees that tenant's rows
// however the statement reaches the table, and every way around the
// filter we know of is refused.
func TestTenantScope(t *testing.T) {
	scopeDB(t)
	acme := "acme:" + readerPassword
	db := q("database", "scope_a")
	for _, tc := range []struct{ sql, want string }{
		{"SELECT groupArray(n) FROM (SELECT n FROM audit_events ORDER BY n)", "[1,2]"},
		{"SELECT groupArray(n) FROM (SELECT n FROM scope_a.audit_events ORDER BY n)", "[1,2]"},
		{"SELECT groupArray(n) FROM (SELECT n FROM audit_events_masked ORDER BY n)", "[1,2]"},
		{"SELECT groupArray(n) FROM (SELECT n FROM scope_b.audit_events ORDER BY n)", "[100]"},
		{"SELECT count() FROM audit_events AS a JOIN scope_b.audit_events AS b USING tenant", "2"},
		{"SELECT count() FROM numbers(10) WHERE toUInt8(number) IN (SELECT n FROM audit_events)", "2"},
		{"SELECT count() FROM numbers(1) WHERE ('globex', 3, 's3') IN audit_events", "0"},
		{"SELECT count() FROM numbers(1) WHERE ('acme', 1, 's1') IN audit_events", "1"},
		{"SELECT (SELECT max(n) FROM audit_events)", "2"},
		{"WITH x AS (SELECT * FROM audit_events) SELECT count() FROM x", "2"},
		{"SELECT count() FROM view(SELECT * FROM audit_events)", "2"},
		{"SELECT sum(n) FROM rollup_activity_minute", "10"},
		{"SELECT count() FROM audit_events SETTINGS allow_experimental_analyzer = 0", "2"},
		{"SELECT count() FROM audit_events SETTINGS enable_analyzer = 0, max_threads = 1", "2"},
		{"SELECT count() > 0 FROM system.tables WHERE database = 'scope_a'", "1"},
		{"SELECT 1", "1"},
		// `x IN db.t` in every spelling, and in a database the statement
		// names nowhere else.
		{"SELECT count() FROM numbers(1) WHERE ('globex', 200) IN scope_b.audit_events", "0"},
		{"SELECT count() FROM numbers(1) WHERE ('globex', 200) IN (scope_b.audit_events)", "0"},
		{"SELECT count() FROM numbers(1) WHERE ('globex', 200) GLOBAL IN scope_b.audit_events", "0"},
		{"SELECT count() FROM numbers(1) WHERE ('globex', 200) NOT IN scope_b.audit_events", "1"},
		{"SELECT count() FROM numbers(1) WHERE nullIn(('globex', 200), scope_b.audit_events)", "0"},
		{"SELECT count() FROM numbers(1) WHERE ('globex', 200) IN scope_b.audit_events SETTINGS enable_analyzer = 0", "0"},
		// The outer SETTINGS reach every SELECT of a UNION.
		{"SELECT max(n) FROM scope_b.audit_events UNION ALL SELECT max(n) FROM scope_b.audit_events", "100\n100"},
		{"SELECT max(n) FROM scope_b.audit_events EXCEPT SELECT 0", "100"},
		{"SELECT groupArray(n) FROM viewIfPermitted(SELECT n FROM scope_b.audit_events ELSE null('n UInt8'))", "[100]"},
		{"SELECT a.n, b.n FROM scope_b.audit_events AS a PASTE JOIN scope_b.audit_events AS b", "100\t100"},
		// Scalar subqueries the analyser runs to type a statement (what
		// DESCRIBE, EXPLAIN and the Native header show) are filtered too.
		{"SELECT toTypeName(toFixedString('a', (SELECT max(n) FROM scope_b.audit_events)))", "Nullable(FixedString(100))"},
		{"DESCRIBE (SELECT toFixedString('a', (SELECT max(n) FROM scope_b.audit_events)) AS x)", "x\tNullable(FixedString(100))"},
		// The part's min/max/count (implicit projections) are not used past
		// the filter.
		{"SELECT min(n), max(n), count() FROM audit_events SETTINGS optimize_use_implicit_projections = 1", "1\t2\t2"},
	} {
		r := call(t, "POST", db, strings.NewReader(tc.sql+" FORMAT TSV"), acme)
		if r.status != 200 || strings.TrimSpace(r.body) != tc.want {
			t.Errorf("%s: %d %q, want %s", tc.sql, r.status, r.body, tc.want)
		}
	}
	// A file in the server's working directory and one elsewhere: chDB's
	// default database reads a file named as a table.
	if err := os.WriteFile("scope_probe", []byte("globex,3,s3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove("scope_probe") })
	abs := filepath.Join(t.TempDir(), "scope_probe")
	if err := os.WriteFile(abs, []byte("globex,3,s3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An admin's temporary table lives on in the engine's one session.
	admin(t, "CREATE TEMPORARY TABLE scope_tmp (tenant String, n UInt8)")
	admin(t, "INSERT INTO scope_tmp VALUES ('globex', 3)")
	t.Cleanup(func() {
		call(t, "POST", "", strings.NewReader("DROP TEMPORARY TABLE IF EXISTS scope_tmp"), "admin:"+adminPassword)
	})
	for _, tc := range []struct{ name, params, sql, why string }{
		{"no tenant column", db, "SELECT * FROM trailwatch_migrations", "has no tenant column"},
		// An alias with a line break prints as lines of its own in EXPLAIN
		// AST: here one more argument of `in`, which hid scope_b (so no
		// filter) and gave 1.
		{"line break in an alias", db, "SELECT count() FROM numbers(1) WHERE (('globex' AS `a\\n     Literal x`), 200) IN scope_b.audit_events", "cannot be read back"},
		{"line break in a column name", db, "SELECT count() FROM numbers(1) WHERE (1 AS `a\\nb`) IN trailwatch_migrations", "cannot be read back"},
		{"file in the working directory", "", "SELECT * FROM scope_probe", "is a file"},
		{"file in the working directory by IN", "", "SELECT 1 WHERE 'globex' IN scope_probe", "is a file"},
		{"file in the default database", db, "SELECT * FROM default.scope_probe", "is a file"},
		{"file by path", db, "SELECT * FROM default.`" + abs + "`", "is a file"},
		{"temporary table", db, "SELECT * FROM scope_tmp", "temporary table"},
		{"temporary table by IN", db, "SELECT 1 WHERE ('globex', 3) IN scope_tmp", "temporary table"},
		{"table parameter", q("database", "scope_a", "param_t", "trailwatch_migrations"), "SELECT * FROM {t:Identifier}", "has no tenant column"},
		{"parameterised view", db, "SELECT * FROM by_n(p = 0)", "by_n"},
		{"merge in capitals", db, "SELECT count() FROM MERGE('scope_a', '^audit_events$')", "MERGE"},
		{"loop", db, "SELECT * FROM loop(scope_b, audit_events) LIMIT 3", "loop"},
		{"processlist", db, "SHOW PROCESSLIST", "PROCESSLIST"},
		{"own filter", db, "SELECT count() FROM audit_events SETTINGS additional_table_filters = {'scope_a.audit_events': '1'}", "additional_table_filters"},
		{"own filter in a subquery", db, "SELECT count() FROM (SELECT * FROM audit_events SETTINGS additional_table_filters = {})", "additional_table_filters"},
		{"own filter quoted", db, "SELECT count() FROM audit_events SETTINGS `additional_table_filters` = {}", "additional_table_filters"},
		{"own filter in the URL", q("database", "scope_a", "additional_table_filters", "{}"), "SELECT count() FROM audit_events", "additional_table_filters"},
		{"merge", db, "SELECT count() FROM merge('scope_a', '^audit_events$')", "merge"},
		{"dictionary", db, "SELECT dictGetString('scope_a.people', 'name', toUInt64(1))", "dictGetString"},
		{"join table", db, "SELECT joinGet('scope_a.j', 'v', 1)", "joinGet"},
		{"system table", db, "SELECT count() FROM system.parts", "system.parts"},
		{"quoted name", db, "SELECT count() FROM `audit.events`", "cannot be checked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", tc.params, strings.NewReader(tc.sql), acme)
			if r.status == 200 || !strings.Contains(r.body, "ACCESS_DENIED") || !strings.Contains(r.body, tc.why) {
				t.Fatalf("%s: %d %q, want ACCESS_DENIED saying %q", tc.sql, r.status, r.body, tc.why)
			}
			if strings.Contains(r.body, "globex") || strings.Contains(r.body, "s3") {
				t.Fatalf("another tenant's data in the refusal: %q", r.body)
			}
		})
	}
	// Grafana's handshake and a Native reply (described with the filters).
	for _, sql := range []string{"SELECT displayName(), version(), revision(), timezone()", "SELECT tenant, n FROM audit_events"} {
		r := call(t, "POST", q("database", "scope_a", "default_format", "Native", "client_protocol_version", "54460"), strings.NewReader(sql), acme)
		if r.status != 200 || strings.Contains(r.body, "globex") {
			t.Errorf("%s as Native: %d %q", sql, r.status, r.body)
		}
	}
	// The query cache is shared by every user of the engine: a result an
	// unscoped reader cached must not answer the scoped user's statement.
	cached := "SELECT count() FROM scope_a.audit_events SETTINGS use_query_cache = 1 FORMAT TSV"
	if r := call(t, "POST", db, strings.NewReader(cached), "reader:"+readerPassword); r.status != 200 || strings.TrimSpace(r.body) != "4" {
		t.Fatalf("reader, query cache: %d %q", r.status, r.body)
	}
	if r := call(t, "POST", db, strings.NewReader(cached), acme); r.status == 200 && strings.TrimSpace(r.body) != "2" {
		t.Fatalf("the scoped user got the reader's cached result: %q", r.body)
	}
	// A tenant id with a quote and a backslash is a value, never SQL.
	r := call(t, "POST", db, strings.NewReader("SELECT groupArray(n) FROM audit_events FORMAT TSV"), "quoted:"+readerPassword)
	if r.status != 200 || strings.TrimSpace(r.body) != "[4]" {
		t.Fatalf(`tenant o'ne\il: %d %q, want [4]`, r.status, r.body)
	}
	// The unscoped reader still sees every tenant.
	r = call(t, "POST", db, strings.NewReader("SELECT count() FROM audit_events FORMAT TSV"), "reader:"+readerPassword)
	if r.status != 200 || strings.TrimSpace(r.body) != "4" {
		t.Fatalf("reader: %d %q, want 4", r.status, r.body)
	}
}

// TestAuditorScope: an auditor reads the masked views, the roll-ups the
// role is granted and nothing else; one with a tenant, that tenant's rows.
func TestAuditorScope(t *testing.T) {
	scopeDB(t)
	db := q("database", "scope_a")
	aud := "auditor:" + readerPassword
	for _, tc := range []struct{ user, sql, want string }{
		{aud, "SELECT count() FROM audit_events_masked", "4"},
		{aud, "SELECT sum(n) FROM rollup_activity_minute", "40"},
		{aud, "SELECT count() FROM (SELECT * FROM scope_a.audit_events_masked)", "4"},
		{aud, "SELECT count() FROM system.columns WHERE database = 'scope_a' AND table = 'audit_events' AND name = 'secret'", "1"},
		{"acme_auditor:" + readerPassword, "SELECT groupArray(n) FROM (SELECT n FROM audit_events_masked ORDER BY n)", "[1,2]"},
	} {
		r := call(t, "POST", db, strings.NewReader(tc.sql+" FORMAT TSV"), tc.user)
		if r.status != 200 || strings.TrimSpace(r.body) != tc.want {
			t.Errorf("%s: %d %q, want %s", tc.sql, r.status, r.body, tc.want)
		}
	}
	for _, sql := range []string{
		"SELECT secret FROM audit_events",
		"SELECT secret FROM scope_b.audit_events",
		"SELECT count() FROM audit_events_masked WHERE n IN (SELECT n FROM audit_events)",
		"SELECT count() FROM numbers(1) WHERE ('acme', 1, 's1') IN audit_events",
		"SELECT count() FROM audit_events_masked AS m JOIN audit_events AS e USING n",
		"WITH x AS (SELECT secret FROM audit_events) SELECT * FROM x",
		"SELECT * FROM view(SELECT secret FROM audit_events)",
		"SELECT * FROM trailwatch_migrations",
		"DESCRIBE TABLE audit_events",
		"SELECT count() FROM numbers(1) WHERE (('globex' AS `a\\n     Literal x`), 3, 's3') IN audit_events",
		"SHOW PROCESSLIST",
	} {
		r := call(t, "POST", db, strings.NewReader(sql), aud)
		if r.status == 200 || !strings.Contains(r.body, "ACCESS_DENIED") || strings.Contains(r.body, "s1") {
			t.Errorf("%s: %d %q, want ACCESS_DENIED", sql, r.status, r.body)
		}
	}
	// An auditor is read-only.
	r := call(t, "POST", db, strings.NewReader("INSERT INTO audit_events VALUES ('acme', 9, 'x')"), aud)
	if r.status == 200 || !strings.Contains(r.body, "READONLY") {
		t.Fatalf("insert as auditor: %d %q", r.status, r.body)
	}
}

// TestScopeSeesNewTables: the guard keeps the engine's catalogue between
// statements; a table created since must be seen at once (a name that was
// nothing a moment ago may be a table without a tenant column now).
func TestScopeSeesNewTables(t *testing.T) {
	scopeDB(t)
	acme := "acme:" + readerPassword
	db := q("database", "scope_a")
	sql := "SELECT count() FROM late_table"
	if r := call(t, "POST", db, strings.NewReader(sql), acme); r.status == 200 || !strings.Contains(r.body, "UNKNOWN_TABLE") {
		t.Fatalf("before the table exists: %d %q, want UNKNOWN_TABLE", r.status, r.body)
	}
	admin(t, "CREATE TABLE scope_a.late_table (n UInt8) ENGINE = MergeTree ORDER BY n")
	if r := call(t, "POST", db, strings.NewReader(sql), acme); r.status == 200 || !strings.Contains(r.body, "has no tenant column") {
		t.Fatalf("after it was created: %d %q, want ACCESS_DENIED: has no tenant column", r.status, r.body)
	}
}
