package chserver

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// A reader's statements run with readonly = 2 appended, which makes the
// engine refuse every write while still allowing settings (what Grafana's
// data source needs). But chDB has no access control of its own, and under
// readonly = 2 it still reads and writes files (file(), INTO OUTFILE),
// reaches the network (url(), s3(), remote()) and creates temporary tables
// in its one shared session. A ClickHouse server refuses all of that to a
// reader without grants, so the guard refuses it too, deciding on the
// engine's own parse of the statement, not on the text as sent:
//
//  1. formatQuery({q:String}) parses the text as one statement (it refuses
//     multi-statements) and prints it normalised, comments gone;
//  2. EXPLAIN AST on the normalised text gives the tree, in which every
//     function call and table function is a node;
//  3. the normalised text runs, so what was checked is what runs.

// readerTableFunctions are the table functions a reader may use: they
// generate data or read tables the reader could read anyway.
var readerTableFunctions = map[string]bool{
	"numbers": true, "numbers_mt": true, "zeros": true, "zeros_mt": true,
	"generate_series": true, "generateSeries": true, "values": true, "generateRandom": true,
	"merge": true, "view": true, "viewIfPermitted": true, "format": true, "null": false,
}

// readerDeniedFunctions are ordinary functions that reach outside the
// engine's tables.
var readerDeniedFunctions = map[string]bool{"file": true}

// parsed is the engine's parse of a statement: its normalised text
// (formatQuery) and EXPLAIN AST of that. Both are syntax only, the same
// for the same text and parameters whatever the tables hold, so the guard
// remembers them (Server.parses): dashboards and reports send the same
// statements again and again, and the two calls are most of the guard's
// cost. What depends on the catalogue or the files (guardNames,
// guardScope) is checked on every statement.
type parsed struct{ normalized, ast string }

// parse returns the engine's parse of text with req's parameters.
func (s *Server) parse(conn *chdb.Conn, req *request, text string) (parsed, error) {
	var key strings.Builder
	key.WriteString(text)
	for _, p := range req.params {
		key.WriteByte(0)
		key.WriteString(p.Name)
		key.WriteByte(0)
		key.WriteString(p.Value)
	}
	if p, ok := s.parses.get(key.String()); ok {
		return p, nil
	}
	out, _, err := conn.Query("SELECT formatQuery({q:String})", "RawBLOB", chdb.Param{Name: "q", Value: escapeParam(text)})
	if err != nil {
		return parsed{}, err
	}
	p := parsed{normalized: strings.TrimSpace(string(out))}
	if st, err := parseStatement(p.normalized); err == nil && readOnlyKinds[st.Kind] {
		ast, _, err := conn.Query("EXPLAIN AST "+p.normalized, "TSVRaw", req.params...)
		if err != nil {
			return parsed{}, err
		}
		p.ast = string(ast)
	}
	s.parses.put(key.String(), p, len(p.normalized)+len(p.ast))
	return p, nil
}

func (s *Server) guardRead(conn *chdb.Conn, req *request, text string) (*Statement, error) {
	p, err := s.parse(conn, req, text)
	if err != nil {
		return nil, err
	}
	normalized := p.normalized
	st, err := parseStatement(normalized)
	if err != nil {
		return nil, err
	}
	if !readOnlyKinds[st.Kind] {
		return nil, s.readonlyError(req)
	}
	if hasTopLevelWords(normalized, "INTO", "OUTFILE") {
		return nil, s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges: INTO OUTFILE writes files on the server", req.user.name)
	}
	if err := s.checkReaderTimeout(req, normalized); err != nil {
		return nil, err
	}
	ast := p.ast
	facts, ok := readAST(ast)
	if !ok {
		return nil, s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges: the statement's parse cannot be read back; a name or alias with a line break in it is not allowed", req.user.name)
	}
	if name := facts.readerDenied; name != "" {
		what := "function"
		if facts.inTable {
			what = "table function"
		}
		return nil, s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges: the %s %s reads outside the database, which a reader may not", req.user.name, what, name)
	}
	if err := s.guardNames(conn, req, facts.refs); err != nil {
		return nil, err
	}
	if req.user.scoped() {
		scope, err := s.guardScope(conn, req, normalized, ast, facts.refs, facts.scopedDenied)
		if err != nil {
			return nil, err
		}
		req.scope = scope
	}
	return st, nil
}

// guardInsert refuses a writer's insert whose target is not a table. In
// chDB's default database (an Overlay with a Filesystem database, as
// clickhouse-local's is) `INSERT INTO "/home/u/.profile" FORMAT CSV`
// appends to that file, so "a writer may insert into tables" must be
// checked against the engine's list of tables (the guard's catalogue:
// tables outside the system databases), not left to the engine.
func (s *Server) guardInsert(conn *chdb.Conn, req *request) error {
	db, name, ok := insertTarget(req.stmt.Insert.Target)
	if !ok {
		return s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges: a writer inserts into a table named [db.]table, with no escapes in a quoted name", req.user.name)
	}
	if db == "" {
		db = req.currentDatabase()
	}
	cat, err := s.catalogue(conn)
	if err != nil {
		return err
	}
	if _, isTable := cat.tables[db][name]; !isTable {
		return s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges: a writer may insert into tables only, and %s.%s is not one", req.user.name, quoteIdent(db), quoteIdent(name))
	}
	return nil
}

// insertTarget reads the table of "INSERT INTO [TABLE] [db.]name …" (an
// Insert's Target). A quoted name with a backslash in it is not read: its
// escapes are the engine's to interpret.
func insertTarget(target string) (db, name string, ok bool) {
	l := &lexer{s: target}
	ident := func() (string, bool) {
		t, err := l.next()
		if err != nil {
			return "", false
		}
		text := l.s[t.start:t.end]
		switch t.kind {
		case tWord:
			return text, true
		case tQuotedIdent:
			if strings.ContainsRune(text, '\\') {
				return "", false
			}
			q := text[:1]
			return strings.ReplaceAll(text[1:len(text)-1], q+q, q), true
		}
		return "", false
	}
	for _, kw := range []string{"INSERT", "INTO"} {
		if t, err := l.next(); err != nil || !l.is(t, kw) {
			return "", "", false
		}
	}
	save := l.pos
	if t, err := l.next(); err == nil && l.is(t, "TABLE") {
		save = l.pos
	}
	l.pos = save
	first, ok := ident()
	if !ok {
		return "", "", false
	}
	save = l.pos
	if t, err := l.next(); err == nil && t.kind == tPunct && l.s[t.start:t.end] == "." {
		second, ok := ident()
		return first, second, ok
	}
	l.pos = save
	return "", first, true
}

// timeoutSetting finds max_execution_time assignments in a normalised
// statement (formatQuery prints them as name = value).
var timeoutSetting = regexp.MustCompile("(?i)[`\"]?max_execution_time[`\"]?\\s*=\\s*([^,\\s)]+)")

// checkReaderTimeout refuses a reader's statement that sets
// max_execution_time to 0 (no limit) or above the configured limit, as a
// server's settings constraint would: the engine runs one statement at a
// time, and nothing bounds a statement that sends nothing until it ends.
// A statement that sets no value, or a smaller one, runs as it is.
func (s *Server) checkReaderTimeout(req *request, normalized string) error {
	limit := s.cfg.ReadTimeout
	if limit <= 0 || !req.user.readOnly() {
		return nil
	}
	for _, m := range timeoutSetting.FindAllStringSubmatch(normalized, -1) {
		if !withinLimit(m[1], limit) {
			return s.codes.raise("SETTING_CONSTRAINT_VIOLATION", "%s: Setting max_execution_time shouldn't be greater than %s or 0 for a read-only user (got %s): the engine runs one statement at a time",
				req.user.name, formatSeconds(limit), m[1])
		}
	}
	return nil
}

// fileDatabaseEngines are the database engines that read files or object
// storage by table name. chDB's default database is an Overlay of an
// ordinary database and a Filesystem one, as clickhouse-local's is.
var fileDatabaseEngines = []string{"Overlay", "Filesystem", "S3", "HDFS"}

// guardNames refuses table names (refs, as readAST returns them) that the
// engine would read as something other than a table:
//
//   - a file: in a database of fileDatabaseEngines, `FROM "/etc/passwd"`,
//     or `FROM secrets` for a file in the server's working directory, reads
//     the file past the refusal of file(). Such a name is no table in
//     system.tables, yet the engine says it EXISTS;
//   - for a scoped user, a temporary table: an admin's lives on in the
//     engine's one session, and an unqualified name finds it before any
//     database's table, unfiltered.
//
// EXPLAIN AST prints `a.b` both for table b of database a and for one
// table named "a.b", so every way of reading a name is checked.
func (s *Server) guardNames(conn *chdb.Conn, req *request, refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	deny := func(format string, args ...any) error {
		return s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges: "+format, append([]any{req.user.name}, args...)...)
	}
	cat, err := s.catalogue(conn)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if cat.temporary[ref] && req.user.scoped() {
			return deny("%s is a temporary table, which a scoped user may not read", ref)
		}
	}
	type dbName struct{ db, name string }
	current := req.currentDatabase()
	for _, ref := range refs {
		cands := []dbName{{current, ref}}
		for i := range len(ref) {
			if ref[i] == '.' {
				cands = append(cands, dbName{ref[:i], ref[i+1:]})
			}
		}
		for _, c := range cands {
			if !cat.fileDBs[c.db] {
				continue
			}
			if _, isTable := cat.tables[c.db][c.name]; isTable {
				continue
			}
			// Not a table: a WITH name, nothing at all, or a file (asked
			// every time: files come and go without the server's knowing).
			out, _, err := conn.Query("EXISTS TABLE "+quoteIdent(c.db)+"."+quoteIdent(c.name), "TSVRaw")
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(out)) == "1" {
				return deny("%s is a file, not a table, and a reader may not read files", c.name)
			}
		}
	}
	return nil
}

// catalogue is what the read guard needs to know of the engine's tables.
type catalogue struct {
	// tables: every table and view outside the system databases, by
	// database and name, with whether it has a tenant column.
	tables map[string]map[string]bool
	// fileDBs are the databases of fileDatabaseEngines.
	fileDBs map[string]bool
	// temporary are the temporary tables' names.
	temporary map[string]bool
}

// catalogueCache holds the catalogue between statements that may change
// it: every such statement is an admin's and runs through runOther, which
// forgets it.
type catalogueCache struct {
	mu  sync.Mutex
	cat *catalogue
}

func (c *catalogueCache) clear() {
	c.mu.Lock()
	c.cat = nil
	c.mu.Unlock()
}

// catalogue returns the engine's catalogue, read once until a statement
// that may change it runs.
func (s *Server) catalogue(conn *chdb.Conn) (*catalogue, error) {
	s.cat.mu.Lock()
	defer s.cat.mu.Unlock()
	if s.cat.cat != nil {
		return s.cat.cat, nil
	}
	engines := make([]string, len(fileDatabaseEngines))
	for i, e := range fileDatabaseEngines {
		engines[i] = quoteString(e)
	}
	out, _, err := conn.Query("SELECT 'd', name, '', 0 FROM system.databases WHERE engine IN ("+strings.Join(engines, ", ")+")"+
		" UNION ALL SELECT 'x', '', name, 0 FROM system.tables WHERE is_temporary"+
		" UNION ALL SELECT 't', database, table, max(name = 'tenant') FROM system.columns"+
		" WHERE database NOT IN ('', 'system', 'information_schema', 'INFORMATION_SCHEMA') GROUP BY database, table", "JSONCompactEachRow")
	if err != nil {
		return nil, err
	}
	cat := &catalogue{tables: map[string]map[string]bool{}, fileDBs: map[string]bool{}, temporary: map[string]bool{}}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var kind, db, name string
		var tenant int
		if err := json.Unmarshal([]byte(line), &[]any{&kind, &db, &name, &tenant}); err != nil {
			return nil, fmt.Errorf("reading the table catalogue: %w", err)
		}
		switch kind {
		case "d":
			cat.fileDBs[db] = true
		case "x":
			cat.temporary[name] = true
		default:
			if cat.tables[db] == nil {
				cat.tables[db] = map[string]bool{}
			}
			cat.tables[db][name] = tenant == 1
		}
	}
	s.cat.cat = cat
	return cat, nil
}

// astFacts is what the read guard learns from a statement's EXPLAIN AST.
type astFacts struct {
	// refs are the tables the statement names (FROM, JOIN, subqueries,
	// `x IN t`), as the engine prints them: db.name or name.
	refs []string
	// readerDenied is the first function no reader may call (a table
	// function other than readerTableFunctions, or one of
	// readerDeniedFunctions), inTable whether it stands in a table
	// position.
	readerDenied string
	inTable      bool
	// scopedDenied is the first function a scoped user may not call: a
	// table function other than scopedTableFunctions, or a dictionary or
	// joinGet function (scope.go).
	scopedDenied string
}

// readAST walks EXPLAIN AST output (one node per line, indented one space
// per level) and returns what the guard needs from it. ok is false when
// the output is not a tree the engine could have printed (see
// declaredChildren): then nothing in it can be trusted.
func readAST(ast string) (f astFacts, ok bool) {
	type node struct {
		depth, children, declared int
		text                      string
	}
	var stack []*node
	roots := 0
	// pop closes the nodes at depth or deeper; each must have had as many
	// children as the engine said it has.
	pop := func(depth int) bool {
		for len(stack) > 0 && stack[len(stack)-1].depth >= depth {
			if n := stack[len(stack)-1]; n.children != n.declared {
				return false
			}
			stack = stack[:len(stack)-1]
		}
		return true
	}
	for _, line := range strings.Split(ast, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" {
			continue
		}
		depth := len(line) - len(trimmed)
		if !pop(depth) {
			return astFacts{}, false
		}
		var parent, grand *node
		if n := len(stack); n > 0 {
			parent = stack[n-1]
			if n > 1 {
				grand = stack[n-2]
			}
		}
		index := 0
		switch {
		case parent == nil && depth == 0 && roots == 0:
			roots++
		case parent != nil && depth == parent.depth+1:
			index = parent.children
			parent.children++
		default:
			return astFacts{}, false
		}
		stack = append(stack, &node{depth: depth, declared: declaredChildren(trimmed), text: trimmed})
		if name, ok := strings.CutPrefix(trimmed, "TableIdentifier "); ok {
			f.refs = append(f.refs, identName(name))
			continue
		}
		if name, ok := strings.CutPrefix(trimmed, "Function "); ok {
			name = identName(name)
			table := parent != nil && strings.HasPrefix(parent.text, "TableExpression")
			if f.readerDenied == "" && (table && !readerTableFunctions[name] || !table && readerDeniedFunctions[name]) {
				f.readerDenied, f.inTable = name, table
			}
			// Dictionaries and Join tables are read by key, past any filter.
			if f.scopedDenied == "" && (table && !scopedTableFunctions[name] ||
				!table && (strings.HasPrefix(name, "dict") || strings.HasPrefix(name, "joinGet"))) {
				f.scopedDenied = name
			}
			continue
		}
		// `x IN t`: the right-hand side is an Identifier naming a table.
		if name, ok := strings.CutPrefix(trimmed, "Identifier "); ok && index == 1 &&
			parent != nil && strings.HasPrefix(parent.text, "ExpressionList") &&
			grand != nil && strings.HasPrefix(grand.text, "Function ") && inFunctions[identName(strings.TrimPrefix(grand.text, "Function "))] {
			f.refs = append(f.refs, identName(name))
		}
	}
	if !pop(0) || roots != 1 {
		return astFacts{}, false
	}
	return f, true
}

// hasTopLevelWords reports whether the words a, b appear in sequence as
// tokens (not inside strings or comments) in text.
func hasTopLevelWords(text, a, b string) bool {
	l := &lexer{s: text}
	var prev token
	for {
		t, err := l.next()
		if err != nil || t.kind == tEOF {
			return false
		}
		if l.is(prev, a) && l.is(t, b) {
			return true
		}
		prev = t
	}
}

// readonlyError is the server's refusal of a write in readonly mode.
func (s *Server) readonlyError(req *request) *exception {
	if req.get && !req.user.readOnly() {
		return s.codes.raise("READONLY", "%s: Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries", req.user.name)
	}
	return s.codes.raise("READONLY", "%s: Cannot execute query in readonly mode", req.user.name)
}

// paramEscaper escapes a parameter value for the engine, which reads
// values in its escaped text format (as TSV fields): a backslash starts an
// escape and a tab or newline would end the value.
var paramEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`, "\b", `\b`, "\f", `\f`)

func escapeParam(v string) string { return paramEscaper.Replace(v) }
