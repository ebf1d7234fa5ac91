package chserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReaderCannotWrite tries every way we know for a reader to change
// data, touch files or the network, or outlive its request; each must be
// refused, and nothing may change.
func TestReaderCannotWrite(t *testing.T) {
	table := httpTable(t, "x UInt8")
	admin(t, "INSERT INTO "+table+" VALUES (1)")
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.csv")
	if err := os.WriteFile(secret, []byte("42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outfile := filepath.Join(dir, "out.csv")
	reader := "reader:" + readerPassword
	// chDB's default database reads a file named as a table, relative to
	// the working directory.
	if err := os.WriteFile("reader_probe", []byte("42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove("reader_probe") })

	attempts := []struct {
		name   string
		params string
		sql    string
	}{
		{"insert values", "", "INSERT INTO " + table + " VALUES (2)"},
		{"insert format", q("query", "INSERT INTO "+table+" FORMAT CSV"), "2\n"},
		{"insert select", "", "INSERT INTO " + table + " SELECT 2"},
		{"insert function", "", "INSERT INTO FUNCTION file('" + outfile + "', 'CSV') SELECT 2"},
		{"create", "", "CREATE TABLE r_evil (x UInt8) ENGINE = Memory"},
		{"create temporary", "", "CREATE TEMPORARY TABLE r_tmp (x UInt8)"},
		{"drop", "", "DROP TABLE " + table},
		{"truncate", "", "TRUNCATE TABLE " + table},
		{"alter delete", "", "ALTER TABLE " + table + " DELETE WHERE 1"},
		{"lightweight delete", "", "DELETE FROM " + table + " WHERE 1"},
		{"optimize", "", "OPTIMIZE TABLE " + table + " FINAL"},
		{"kill", "", "KILL QUERY WHERE 1"},
		{"system", "", "SYSTEM DROP DNS CACHE"},
		{"set readonly", "", "SET readonly = 0"},
		{"set into outfile", "", "SET max_threads = 1 INTO OUTFILE '" + outfile + "'"},
		{"set union", "", "SET max_threads = 1 UNION ALL SELECT * FROM file('" + secret + "', 'CSV', 'x UInt8')"},
		{"use into outfile", "", "USE default INTO OUTFILE '" + outfile + "'"},
		{"use format", "", "USE default FORMAT CSV"},
		{"readonly in url", q("readonly", "0"), "INSERT INTO " + table + " VALUES (2)"},
		{"setting readonly in statement", "", "SELECT 1 SETTINGS readonly = 0"},
		{"second statement", "", "SELECT 1; INSERT INTO " + table + " VALUES (2)"},
		{"second statement after comment", "", "SELECT 1 /* ; */; INSERT INTO " + table + " VALUES (2)"},
		{"line comment hides nothing", "", "SELECT 1 -- x\n; INSERT INTO " + table + " VALUES (2)"},
		{"nested comment", "", "SELECT 1 /* /* */ ; INSERT INTO " + table + " VALUES (2)"},
		{"query and body", q("query", "SELECT 1;"), "INSERT INTO " + table + " VALUES (2)"},
		{"file table function", "", "SELECT * FROM file('" + secret + "', 'CSV', 'x UInt8')"},
		{"file scalar", "", "SELECT file('" + secret + "')"},
		{"file scalar in subquery", "", "SELECT (SELECT file('" + secret + "'))"},
		{"file in where", "", "SELECT 1 WHERE file('" + secret + "') != ''"},
		{"file in cte", "", "WITH (SELECT file('" + secret + "')) AS s SELECT s"},
		{"url", "", "SELECT * FROM url('http://127.0.0.1:1/x', 'CSV', 'x UInt8')"},
		{"remote", "", "SELECT * FROM remote('127.0.0.1:1', system.one)"},
		{"s3", "", "SELECT * FROM s3('http://127.0.0.1:1/b/k', 'CSV', 'x UInt8')"},
		{"executable", "", "SELECT * FROM executable('true', 'CSV', 'x UInt8')"},
		{"into outfile", "", "SELECT 1 INTO OUTFILE '" + outfile + "'"},
		{"explain file", "", "EXPLAIN SELECT * FROM file('" + secret + "', 'CSV', 'x UInt8')"},
		{"explain pipeline url", "", "EXPLAIN PIPELINE SELECT * FROM url('http://127.0.0.1:1/x', 'CSV', 'x UInt8')"},
		{"explain insert", "", "EXPLAIN INSERT INTO " + table + " SELECT 2"},
		{"describe file", "", "DESCRIBE TABLE file('" + secret + "', 'CSV')"},
		{"join file", "", "SELECT * FROM " + table + " AS a JOIN file('" + secret + "', 'CSV', 'x UInt8') AS b USING x"},
		{"in file", "", "SELECT 1 WHERE 42 IN (SELECT x FROM file('" + secret + "', 'CSV', 'x UInt8'))"},
		{"file as a table", "", "SELECT * FROM `" + secret + "`"},
		{"file as a table of default", "", "SELECT * FROM default.`" + secret + "`"},
		{"file as a table, relative", "", "SELECT * FROM reader_probe"},
		{"file as a table in IN", "", "SELECT 1 WHERE 42 IN reader_probe"},
		{"file as a table described", "", "DESCRIBE TABLE `" + secret + "`"},
		{"line break in an alias", "", "SELECT count() FROM numbers(1) WHERE ((1 AS `a\\n     Literal x`), 42) IN reader_probe"},
		{"get insert", q("query", "INSERT INTO "+table+" VALUES (2)"), ""},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			r := call(t, "POST", a.params, strings.NewReader(a.sql), reader)
			if r.status == 200 {
				t.Fatalf("allowed: %q", r.body)
			}
			if !strings.HasPrefix(r.body, "Code: ") || r.header.Get("X-ClickHouse-Exception-Code") == "" {
				t.Fatalf("%d without a ClickHouse error: %q", r.status, r.body)
			}
			if strings.Contains(r.body, "42") && !strings.Contains(a.sql, "42") {
				t.Fatalf("the secret leaked: %q", r.body)
			}
			if _, err := os.Stat(outfile); err == nil {
				t.Fatalf("wrote a file (%d %q)", r.status, r.body)
			}
		})
	}
	if got := admin(t, "SELECT count() FROM "+table+" FORMAT TSV"); got != "1\n" {
		t.Fatalf("the table changed: %q rows", got)
	}
	if got := admin(t, "EXISTS TABLE r_evil FORMAT TSV"); got != "0\n" {
		t.Fatal("a reader created a table")
	}
	if _, err := os.Stat(outfile); err == nil {
		t.Fatal("a reader wrote a file")
	}
	// The engine's session was not left read-only or changed.
	admin(t, "INSERT INTO "+table+" VALUES (3)")
	if got := admin(t, "SELECT toString(getSetting('readonly')) FORMAT TSV"); got != "0\n" {
		t.Fatalf("readonly after the attempts: %q", got)
	}
}

// TestReaderCanRead: what a dashboard does stays allowed.
func TestReaderCanRead(t *testing.T) {
	table := httpTable(t, "tenant String, n UInt8")
	admin(t, "INSERT INTO "+table+" VALUES ('a', 1), ('b', 2)")
	reader := "reader:" + readerPassword
	for _, sql := range []string{
		"SELECT sum(n) FROM " + table,
		"SELECT sum(n) FROM " + table + " SETTINGS max_threads = 1, max_execution_time = 5",
		"WITH 1 AS one SELECT sum(n) + one - 1 FROM " + table,
		"SELECT sum(number) FROM numbers(3) -- trailing comment",
		"/* leading */ SELECT sum(n) FROM " + table,
		"SHOW TABLES",
		"DESCRIBE TABLE " + table,
		"EXISTS TABLE " + table,
		"EXPLAIN SELECT 1",
		"SET max_threads = 2",
		"USE default",
		"SELECT count() FROM system.tables WHERE name = 'x'",
		"SELECT * FROM format(CSV, 'x UInt8', '7')",
		"SELECT 'file(x)', `file` FROM (SELECT 1 AS file)",
		"SELECT 1 /* /* */ ; INSERT INTO " + table + " VALUES (2) */",
	} {
		r := call(t, "POST", "", strings.NewReader(sql), reader)
		if r.status != 200 {
			t.Errorf("%s: %d %s", sql, r.status, r.body)
		}
	}
	// A parameterised query, as every named query is: the guard's own
	// parse of it needs the parameters too.
	sql := "SELECT sum(n) FROM " + table + " WHERE tenant = {t:String} FORMAT TSV"
	if r := call(t, "POST", "param_t=b", strings.NewReader(sql), reader); r.status != 200 || string(r.body) != "2\n" {
		t.Errorf("%s with t=b: %d %s", sql, r.status, r.body)
	}
}

func TestWriterCannotRead(t *testing.T) {
	table := httpTable(t, "x UInt8")
	writer := "writer:" + writerPassword
	for _, sql := range []string{
		"SELECT * FROM " + table,
		"SHOW TABLES",
		"CREATE TABLE w_evil (x UInt8) ENGINE = Memory",
		"DROP TABLE " + table,
		"INSERT INTO " + table + " SELECT 1",
		"INSERT INTO FUNCTION file('w.csv', 'CSV') VALUES (1)",
	} {
		r := call(t, "POST", "", strings.NewReader(sql), writer)
		if r.status != 403 || r.header.Get("X-ClickHouse-Exception-Code") != "497" && r.header.Get("X-ClickHouse-Exception-Code") != "164" {
			t.Errorf("%s: %d %s", sql, r.status, r.body)
		}
	}
	if r := call(t, "POST", "", strings.NewReader("INSERT INTO "+table+" VALUES (1)"), writer); r.status != 200 {
		t.Fatalf("writer insert: %d %s", r.status, r.body)
	}
}

// TestReaderTimeLimit: the engine runs one statement at a time, so a
// read-only user may not lift or raise the read time limit: a statement
// setting max_execution_time to 0 or above the limit is refused, and the
// URL's value is capped (Grafana sends its own deadline there).
func TestReaderTimeLimit(t *testing.T) {
	reader := "reader:" + readerPassword
	limit := formatSeconds(testSrv.cfg.ReadTimeout)
	for _, sql := range []string{
		"SELECT 1 SETTINGS max_execution_time = 0",
		"SELECT 1 SETTINGS max_execution_time = 86400",
		"SELECT 1 SETTINGS max_execution_time = '0'",
		"SELECT * FROM (SELECT 1 SETTINGS max_execution_time = 0)",
		"SELECT 1 SETTINGS `max_execution_time` = 0",
	} {
		r := call(t, "POST", "", strings.NewReader(sql), reader)
		if r.status == 200 || !strings.Contains(r.body, "SETTING_CONSTRAINT_VIOLATION") {
			t.Errorf("%s: %d %q, want SETTING_CONSTRAINT_VIOLATION", sql, r.status, r.body)
		}
	}
	for _, tc := range []struct{ user, url, want string }{
		{reader, "0", limit},
		{reader, "100000", limit},
		{reader, "10", "10"},
		{"auditor:" + readerPassword, "0", limit},
		{"admin:" + adminPassword, "0", "0"},
	} {
		r := call(t, "POST", q("max_execution_time", tc.url), strings.NewReader("SELECT toString(getSetting('max_execution_time'))"), tc.user)
		if r.status != 200 || strings.TrimSpace(r.body) != tc.want {
			t.Errorf("%s with max_execution_time=%s in the URL: %d %q, want %s", tc.user, tc.url, r.status, r.body, tc.want)
		}
	}
	if r := call(t, "POST", "", strings.NewReader("SELECT 1 SETTINGS max_execution_time = 5"), reader); r.status != 200 {
		t.Errorf("a smaller limit: %d %q", r.status, r.body)
	}
}

// TestWriterWritesTablesOnly: chDB's default database also names files
// (an Overlay with a Filesystem database), and an insert into a file's
// name appends to the file. A writer may insert into tables only.
func TestWriterWritesTablesOnly(t *testing.T) {
	table := httpTable(t, "c1 UInt8")
	victim := filepath.Join(t.TempDir(), "victim.csv")
	if err := os.WriteFile(victim, []byte("0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := "writer:" + writerPassword
	for _, target := range []string{
		`"` + victim + `"`, "`" + victim + "`", `default."` + victim + `"`, "TABLE `" + victim + "`",
		`"` + victim + `" (c1)`, "`" + strings.ReplaceAll(victim, "/", `\/`) + "`",
	} {
		r := call(t, "POST", q("query", "INSERT INTO "+target+" FORMAT CSV"), strings.NewReader("1\n"), w)
		if r.status == 200 || !strings.Contains(r.body, "ACCESS_DENIED") {
			t.Errorf("insert into %s: %d %q, want ACCESS_DENIED", target, r.status, r.body)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "0\n" {
		t.Fatalf("a writer changed a file: %q", b)
	}
	for _, target := range []string{table, "default." + table, "`" + table + "`", `"default"."` + table + `"`, "TABLE " + table + " (c1)"} {
		if r := call(t, "POST", q("query", "INSERT INTO "+target+" FORMAT CSV"), strings.NewReader("1\n"), w); r.status != 200 {
			t.Errorf("insert into %s: %d %q", target, r.status, r.body)
		}
	}
	if got := admin(t, "SELECT count() FROM "+table+" FORMAT TSV"); got != "5\n" {
		t.Fatalf("%q rows, want 5", got)
	}
}
