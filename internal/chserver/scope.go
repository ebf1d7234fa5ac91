package chserver

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// Scoped users. A ClickHouse server restricts a user with grants and row
// policies (schemas/clickhouse/0006_access_control.sql). chDB has no
// access storage and runs every statement as its one user
// (shared/DESIGN.md), so the embedded server enforces the two restrictions
// Trailwatch's roles need itself, on the engine's own parse of each
// statement (guard.go):
//
//   - an auditor reads only what the auditor role is granted: the masked
//     views, the activity and alert roll-ups and the integrity checkpoints;
//   - a user with a tenant sees only that tenant's rows. Every statement
//     runs with additional_table_filters = {'db.t': 'tenant = …', …} for
//     each table and view with a tenant column in the databases the
//     statement can name, which the engine applies wherever the table is
//     read (FROM, JOIN, subqueries, IN, views, view()); a table without a
//     tenant column is refused.
//
// What would get around that is refused: setting additional_table_filters
// in the statement or the URL (a subquery's own SETTINGS clause replaces
// ours), the merge() table function (the engine reads the tables it
// matches unfiltered), dictionary and joinGet functions, system tables other
// than the catalogue, SHOW PROCESSLIST, temporary tables and files named as
// tables (guardNames), and table names the guard cannot read back exactly
// (quoted or dotted ones, or a tree a line break has disturbed).

const filterSetting = "additional_table_filters"

// auditorObjects are the objects the auditor role is granted, in any
// database.
var auditorObjects = map[string]bool{
	"audit_events_masked": true, "alerts_masked": true, "actions_masked": true,
	"rollup_activity_minute": true, "rollup_alerts_hourly": true, "integrity_checkpoints": true,
}

// scopedSystemTables are the system tables a scoped user may read: the
// catalogue Grafana's editor browses (shared/grafana-http.md) and the
// generators. They describe tables, never their rows.
var scopedSystemTables = map[string]bool{
	"one": true, "numbers": true, "numbers_mt": true, "zeros": true, "zeros_mt": true,
	"databases": true, "tables": true, "columns": true, "functions": true, "table_functions": true,
	"data_type_families": true, "formats": true, "settings": true, "time_zones": true,
}

// scopedTableFunctions are the reader's table functions less merge().
var scopedTableFunctions = func() map[string]bool {
	m := map[string]bool{}
	for name, ok := range readerTableFunctions {
		if ok && name != "merge" {
			m[name] = true
		}
	}
	return m
}()

// inFunctions take a table name as their right-hand side (`x IN t`).
var inFunctions = map[string]bool{
	"in": true, "notIn": true, "globalIn": true, "globalNotIn": true,
	"nullIn": true, "notNullIn": true, "globalNullIn": true, "globalNotNullIn": true,
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// guardScope checks a scoped user's statement (normalised text, its
// EXPLAIN AST and what readAST found in it) and returns the settings to
// run it with: the tenant filters, or nothing for an auditor without a
// tenant.
func (s *Server) guardScope(conn *chdb.Conn, req *request, normalized, ast string, refs []string, fn string) (string, error) {
	u := req.user
	deny := func(format string, args ...any) error {
		return s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges: "+format, append([]any{u.name}, args...)...)
	}
	if mentionsName(normalized, filterSetting) || hasSettingFold(req.settings, filterSetting) {
		return "", deny("%s is set by the server for this user, who may not set it", filterSetting)
	}
	if quotedDotted(normalized) {
		return "", deny("a quoted name with a dot in it cannot be checked; name tables by plain names")
	}
	// SHOW PROCESSLIST is system.processes: other statements' text.
	if strings.HasPrefix(ast, "ShowProcesslistQuery") {
		return "", deny("SHOW PROCESSLIST shows other users' statements")
	}
	if fn != "" {
		return "", deny("the function %s reads tables or dictionaries without this user's restrictions", fn)
	}
	current := req.currentDatabase()
	c, err := s.catalogue(conn)
	if err != nil {
		return "", err
	}
	cat := c.tables
	dbs := map[string]bool{current: true}
	for _, ref := range refs {
		db, name, ok := strings.Cut(ref, ".")
		if !ok {
			db, name = current, ref
		}
		if !plainName.MatchString(db) || !plainName.MatchString(name) {
			return "", deny("the table name %s cannot be checked; name tables by plain names", ref)
		}
		switch {
		case db == "system":
			if !scopedSystemTables[name] {
				return "", deny("system.%s is not one of the catalogue tables this user may read", name)
			}
			continue
		case strings.EqualFold(db, "information_schema"):
			continue
		}
		hasTenant, isTable := cat[db][name]
		if !isTable {
			continue // a WITH name, or nothing the engine will find
		}
		dbs[db] = true
		if u.role == RoleAuditor && !auditorObjects[name] {
			return "", deny("an auditor reads the masked views, the activity and alert roll-ups and the integrity checkpoints, not %s.%s", db, name)
		}
		if u.tenant != "" && !hasTenant {
			return "", deny("%s.%s has no tenant column, so a user scoped to one tenant may not read it", db, name)
		}
	}
	if u.tenant == "" {
		return "", nil
	}
	return tenantFilters(cat, dbs, u.tenant), nil
}

// tenantFilters is the additional_table_filters assignment that limits
// every table and view with a tenant column in dbs to tenant.
func tenantFilters(cat map[string]map[string]bool, dbs map[string]bool, tenant string) string {
	cond := quoteString("tenant = " + quoteString(tenant))
	var entries []string
	for db := range dbs {
		for name, hasTenant := range cat[db] {
			if hasTenant {
				entries = append(entries, quoteString(db+"."+name)+": "+cond)
			}
		}
	}
	sort.Strings(entries)
	return filterSetting + " = {" + strings.Join(entries, ", ") + "}"
}

// declaredChildren is the N of a node line's trailing "(children N)".
//
// EXPLAIN AST prints names and aliases as they are: one with a line break
// in it (the alias of 1 AS `a\n     Literal x`) prints as lines of its own,
// which would shift `x IN db.t` out of the walker's sight. What the engine
// prints of a node before such a name is its own, so every real node
// declares its real number of children; a line slipped in among them makes
// some node's count wrong, or the tree have two roots. (Lines slipped in
// under the node with the name are its own children and can hide nothing
// but other slipped-in lines.)
func declaredChildren(line string) int {
	body, ok := strings.CutSuffix(line, ")")
	if !ok {
		return 0
	}
	i := strings.LastIndex(body, "(children ")
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(body[i+len("(children "):])
	if err != nil {
		return 0
	}
	return n
}

// identName is a node's name without what follows it: " (alias a)",
// " (children 2)".
func identName(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// mentionsName reports whether name appears in text as a word or a quoted
// identifier (not inside a string literal or a comment), in any case.
func mentionsName(text, name string) bool {
	l := &lexer{s: text}
	for {
		t, err := l.next()
		if err != nil || t.kind == tEOF {
			return err != nil // text the lexer cannot read is refused too
		}
		if (t.kind == tWord || t.kind == tQuotedIdent) && strings.Contains(strings.ToLower(l.s[t.start:t.end]), strings.ToLower(name)) {
			return true
		}
	}
}

// quotedDotted reports whether text has a quoted identifier with a dot in
// it, which EXPLAIN AST prints exactly as it prints a database and a table.
func quotedDotted(text string) bool {
	l := &lexer{s: text}
	for {
		t, err := l.next()
		if err != nil || t.kind == tEOF {
			return err != nil
		}
		if t.kind == tQuotedIdent && strings.Contains(l.s[t.start:t.end], ".") {
			return true
		}
	}
}

func hasSettingFold(sets []setting, name string) bool {
	for _, s := range sets {
		if strings.EqualFold(s.name, name) {
			return true
		}
	}
	return false
}
