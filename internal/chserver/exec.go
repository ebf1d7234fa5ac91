package chserver

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// quoteString renders s as a ClickHouse string literal.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// quoteIdent renders s as a ClickHouse quoted identifier.
func quoteIdent(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`")
	return "`" + r.Replace(s) + "`"
}

// settingsClause renders assignments for a SETTINGS clause.
func settingsClause(sets []setting) string {
	parts := make([]string, len(sets))
	for i, s := range sets {
		parts[i] = s.name + " = " + settingValue(s.value)
	}
	return strings.Join(parts, ", ")
}

var numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// settingValue renders a URL setting's value. A server converts the text
// to the setting's type; in SQL a number must be written as a number (a
// quoted one is refused by some settings, such as limit), and anything
// else as a string, which the engine converts.
func settingValue(v string) string {
	if numberRE.MatchString(v) {
		return v
	}
	return quoteString(v)
}

// withSettings adds a SETTINGS clause to a query: before its FORMAT clause
// if it has one (the grammar allows no SETTINGS clause after FORMAT …
// SETTINGS), else at the end. The engine applies this outer clause before
// the query's own SETTINGS, so the query's settings win, except that
// readonly, once set here, cannot be lifted.
func withSettings(st *Statement, clause string) string {
	if clause == "" {
		return st.Text
	}
	if st.FormatAt >= 0 {
		return st.Text[:st.FormatAt] + "\nSETTINGS " + clause + "\n" + st.Text[st.FormatAt:]
	}
	return st.Text + "\nSETTINGS " + clause
}

// execute runs a parsed request and writes the reply.
func (s *Server) execute(r *http.Request, req *request, resp *responder) {
	ctx := r.Context()
	st := req.stmt
	role := req.user.role

	// What a role may do is decided before the request waits for the engine.
	switch {
	case st.Insert != nil && st.Insert.HasData:
		if req.user.readOnly() || req.readonly {
			resp.fail(s.readonlyError(req))
			return
		}
		if role == RoleWriter && st.Insert.Function {
			resp.fail(s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges. A writer may insert into tables only, not into table functions", req.user.name))
			return
		}
	case role == RoleWriter:
		resp.fail(s.codes.raise("ACCESS_DENIED", "%s: Not enough privileges. A writer may only insert data (INSERT … FORMAT or VALUES)", req.user.name))
		return
	case req.user.readOnly() || req.readonly:
		if !readOnlyKinds[st.Kind] && st.Kind != "SET" && st.Kind != "USE" {
			resp.fail(s.readonlyError(req))
			return
		}
	}

	waitStart := time.Now()
	if err := s.q.acquire(ctx); err != nil {
		resp.fail(s.codes.asException(err))
		return
	}
	defer s.q.release()
	s.m.queueWait.Observe(time.Since(waitStart).Seconds())
	// A request whose client went away while it waited is not run.
	if err := ctx.Err(); err != nil {
		resp.fail(s.codes.asException(err))
		return
	}
	conn, err := s.eng.Acquire(ctx)
	if err != nil {
		resp.fail(s.codes.asException(err))
		return
	}
	defer conn.Release()
	runStart := time.Now()
	kind := strings.ToLower(st.Kind)
	defer func() { s.m.runTime.WithLabelValues(kind).Observe(time.Since(runStart).Seconds()) }()

	if req.database != "" && req.database != "default" {
		if _, _, err := conn.Query("USE "+quoteIdent(req.database), ""); err != nil {
			resp.fail(s.codes.asException(err))
			return
		}
		defer func() { _, _, _ = conn.Query("USE default", "") }()
	}

	var stats chdb.Stats
	var runErr error
	switch {
	case req.clientPV && strings.EqualFold(req.format, "Native") && isHello(st):
		resp.begin(stats)
		runErr = resp.write(helloBlock(s.displayName, s.version, s.timezone))
	case st.Insert != nil && st.Insert.HasData:
		stats, runErr = s.runInsert(ctx, conn, req)
		if runErr == nil {
			resp.format = req.format
			resp.begin(stats)
		}
	case st.Kind == "USE":
		runErr = s.runUse(conn, req)
		if runErr == nil {
			resp.begin(stats)
		}
	case st.Kind == "SET":
		runErr = s.runSet(conn, req)
		if runErr == nil {
			resp.begin(stats)
		}
	case readOnlyKinds[st.Kind]:
		stats, runErr = s.runQuery(ctx, conn, req, resp)
	default:
		stats, runErr = s.runOther(conn, req, resp)
	}
	s.count(stats)
	if runErr != nil {
		resp.fail(s.codes.asException(runErr))
		return
	}
	if err := resp.finish(); err != nil {
		s.log.Debug().Err(err).Str("query_id", req.queryID).Msg("finishing reply")
	}
}

func (s *Server) count(st chdb.Stats) {
	s.m.rowsRead.Add(float64(st.RowsRead))
	s.m.bytesRead.Add(float64(st.BytesRead))
	s.m.rowsWritten.Add(float64(st.RowsWritten))
	s.m.bytesWritten.Add(float64(st.BytesWritten))
}

// querySettings are the settings appended to a query: the URL's, the
// default time limit for reads, and for readers the engine's read-only
// mode. The clause goes after the statement's own SETTINGS; ClickHouse
// applies the outer clause first, so the statement's own settings win over
// the URL's (as on a server) but cannot lift readonly, which the engine
// refuses to change once set.
//
// A read-only user's max_execution_time from the URL is capped at the
// configured limit (0, no limit, becomes the limit): the engine runs one
// statement at a time, so a reader's statement without one would hold
// every other request behind it. Grafana sends its own deadline (about
// 64 s) in the URL, so capping rather than refusing keeps it working.
func (s *Server) querySettings(req *request) []setting {
	sets := append([]setting(nil), req.settings...)
	if limit := s.cfg.ReadTimeout; limit > 0 {
		found := false
		for i, st := range sets {
			if st.name != "max_execution_time" {
				continue
			}
			found = true
			if req.user.readOnly() && !withinLimit(st.value, limit) {
				sets[i].value = formatSeconds(limit)
			}
		}
		if !found {
			sets = append(sets, setting{"max_execution_time", formatSeconds(limit)})
		}
	}
	if req.user.readOnly() || req.readonly {
		sets = append(sets, setting{"readonly", "2"})
	}
	return sets
}

// withinLimit says whether a max_execution_time value (seconds) is a
// positive number no greater than limit.
func withinLimit(v string, limit time.Duration) bool {
	secs, err := strconv.ParseFloat(strings.Trim(v, `'"`), 64)
	return err == nil && secs > 0 && secs <= limit.Seconds()
}

func hasSetting(sets []setting, name string) bool {
	for _, s := range sets {
		if s.name == name {
			return true
		}
	}
	return false
}

func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// runQuery streams a read-only statement's result to the client.
func (s *Server) runQuery(ctx context.Context, conn *chdb.Conn, req *request, resp *responder) (chdb.Stats, error) {
	st := req.stmt
	if req.user.readOnly() || req.readonly {
		checked, err := s.guardRead(conn, req, st.Text)
		if err != nil {
			return chdb.Stats{}, err
		}
		st = checked
	}
	clause := settingsClause(s.querySettings(req))
	if req.scope != "" {
		if clause != "" {
			clause += ", "
		}
		clause += req.scope
	}
	text := withSettings(st, clause)
	if st.Kind != "SELECT" && st.Kind != "WITH" {
		// The engine streams SELECTs only; SHOW, DESCRIBE, EXISTS and
		// EXPLAIN answer small results in one piece.
		out, stats, err := conn.Query(text, req.format, req.params...)
		if err != nil {
			return stats, err
		}
		if len(out) == 0 && st.Format == "" && strings.EqualFold(req.format, "Native") {
			// An empty result still names its columns (native.go); these
			// statements are cheap, so ask again for just the header.
			out = s.emptyHeader(conn, req, text)
		}
		resp.begin(stats)
		if len(out) > 0 {
			_ = resp.write(out)
		}
		return stats, nil
	}
	// Native output needs the result's columns for an empty result and for
	// zones (native.go).
	var cols []column
	native := st.Format == "" && strings.EqualFold(req.format, "Native")
	if native {
		// If the engine cannot describe the query, it runs as it is: its
		// own error, if it has one, is the one to report.
		cols, _ = s.describe(conn, req, st.Text, clause)
	}
	var patch *zonePatcher
	if native && needsZonePatch(cols) {
		patch = newZonePatcher(cols)
	}
	// The first chunk is not flushed on its own: if it is also the last
	// (a small result), the reply goes out in one write with a
	// Content-Length when the handler returns. Later chunks flush at once.
	chunks := 0
	send := func(chunk []byte) error {
		if patch != nil {
			chunk = patch.push(chunk)
		}
		if len(chunk) == 0 {
			return nil
		}
		if err := resp.write(chunk); err != nil {
			return err
		}
		if chunks++; chunks > 1 {
			resp.flush()
		}
		return nil
	}

	stream, err := conn.Stream(text, req.format, req.params...)
	if err != nil {
		return chdb.Stats{}, err
	}
	// A client that goes away stops the query at the next chunk. The
	// engine's stream cannot be cancelled while it works towards a chunk
	// (libchdb serialises cancel behind fetch), so a query that produces
	// nothing for long is bounded by max_execution_time instead.
	defer stream.Close()
	first, err := stream.Next()
	if err != nil && err != io.EOF {
		return stream.Stats(), err
	}
	resp.begin(stream.Stats())
	if err == io.EOF {
		if native && len(cols) > 0 {
			_ = resp.write(emptyBlock(cols))
		}
		return stream.Stats(), nil
	}
	if err := send(first); err != nil {
		return stream.Stats(), nil // the client went away; nothing to tell it
	}
	for {
		if ctx.Err() != nil {
			return stream.Stats(), nil
		}
		chunk, err := stream.Next()
		if err == io.EOF {
			if patch != nil {
				if rest := patch.flush(); len(rest) > 0 {
					_ = resp.write(rest)
				}
			}
			return stream.Stats(), nil
		}
		if err != nil {
			return stream.Stats(), err
		}
		if err := send(chunk); err != nil {
			return stream.Stats(), nil
		}
	}
}

// runSet answers SET. Without a session a SET changes nothing beyond its
// own request, as on a server; it is checked (the settings exist, the
// values fit, readonly holds) by applying it to a statement that reads
// nothing. It never reaches the engine's session, where it would outlive
// the request (and `readonly` could never be lifted again).
func (s *Server) runSet(conn *chdb.Conn, req *request) error {
	// The assignments go into a SETTINGS clause below. The engine's parser
	// reads the text as one SET statement and prints it back, so what goes
	// there is nothing but assignments (not `max_threads = 1 INTO OUTFILE
	// …` or `… UNION ALL SELECT …`). The text travels as a parameter: no
	// statement of ours has it pasted in before it has been parsed.
	out, _, err := conn.Query("SELECT formatQuery({q:String})", "RawBLOB", chdb.Param{Name: "q", Value: escapeParam(req.stmt.Text)})
	if err != nil {
		return err
	}
	normalized := strings.TrimSpace(string(out))
	assignments, ok := strings.CutPrefix(normalized, "SET ")
	if !ok {
		return s.codes.raise("SYNTAX_ERROR", "Syntax error: SET takes only setting assignments")
	}
	text := "SELECT 1 SETTINGS " + assignments
	if req.user.readOnly() || req.readonly {
		// Applied before the statement's own clause, so readonly holds.
		text += "\nSETTINGS readonly = 2"
	}
	_, _, err = conn.Query(text, "Null")
	return err
}

// runUse answers USE db: without a session it changes nothing, as on a
// server, but the database must exist. The engine's session is left alone.
func (s *Server) runUse(conn *chdb.Conn, req *request) error {
	name := strings.TrimSpace(req.stmt.Text[len("USE"):])
	// One name and nothing else: it is pasted into EXISTS below.
	l := &lexer{s: name}
	first, err1 := l.next()
	end, err2 := l.next()
	if err1 != nil || err2 != nil || (first.kind != tWord && first.kind != tQuotedIdent) || end.kind != tEOF {
		return s.codes.raise("SYNTAX_ERROR", "Syntax error: USE takes one database name")
	}
	out, _, err := conn.Query("EXISTS DATABASE "+name, "TSVRaw")
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(out)) != "1" {
		return s.codes.raise("UNKNOWN_DATABASE", "Database %s does not exist", name)
	}
	return nil
}

// runOther runs a statement that is neither a query nor an insert with
// data (DDL, INSERT … SELECT, SYSTEM, …): admins only. URL settings are
// set around it and restored, since such statements take no SETTINGS
// clause of query settings.
func (s *Server) runOther(conn *chdb.Conn, req *request, resp *responder) (chdb.Stats, error) {
	var applied []string
	defer func() {
		for _, name := range applied {
			_, _, _ = conn.Query("SET "+name+" = DEFAULT", "")
		}
	}()
	for _, st := range req.settings {
		if _, _, err := conn.Query("SET "+st.name+" = "+settingValue(st.value), ""); err != nil {
			return chdb.Stats{}, err
		}
		applied = append(applied, st.name)
	}
	out, stats, err := conn.Query(req.stmt.Text, req.format, req.params...)
	// The statement may have changed a schema: forget result descriptions
	// and the read guard's catalogue.
	s.describes.clear()
	s.cat.clear()
	if err != nil {
		return stats, err
	}
	resp.begin(stats)
	if len(out) > 0 {
		if err := resp.write(out); err != nil {
			return stats, nil
		}
	}
	return stats, nil
}
