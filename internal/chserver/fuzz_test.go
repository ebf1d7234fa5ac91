package chserver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// lexerSeeds are statements whose ends are easy to get wrong.
var lexerSeeds = []string{
	"SELECT 1", "SELECT 1;", "SELECT ';'", `SELECT '\';'`, "SELECT 'a'';'", "SELECT \"a;\"", "SELECT `a;`",
	"SELECT $$;$$", "SELECT $a$;$a$", "SELECT $a$;$b$;$a$", "SELECT 1 -- ;\n", "SELECT 1 /* ; */", "SELECT 1 /* /* ; */ */",
	"SELECT 1 # ;\n", "SELECT 1 #!;\n", "SELECT x'3B'", "SELECT 1 FORMAT JSON", "SELECT '\\\\'; SELECT 2",
	"SELECT {a:String}", "SELECT 1 SETTINGS max_threads = 1", "SELECT $1$", "SELECT 1 ; ; ",
	"A$a$;$a$", "SELECT 1 AS x$a$; DROP TABLE t; $a$", "SELECT '\\x27;'", "SELECT \"\\\";\"", "SELECT 'a' 'b'", "SELECT 1 /*/ ; */", "SELECT 1 --\r; SELECT 2",
}

// engineStatementCount asks the engine's parser how it splits text: 1 for
// one statement, 2 for a multi-statement, 0 for text it does not parse.
func engineStatementCount(t testing.TB, text string) int {
	t.Helper()
	_, _, err := testSrv.eng.Query(context.Background(), "SELECT formatQuery({q:String})", "RawBLOB", chdb.Param{Name: "q", Value: escapeParam(text)})
	switch {
	case err == nil:
		return 1
	case strings.Contains(err.Error(), "Multi-statements are not allowed"):
		return 2
	default:
		return 0
	}
}

// FuzzLexerAgainstEngine: where our lexer says "one statement, ending
// here", the engine's parser must not see a second statement in it. (A
// disagreement would let a second statement through to an engine that runs
// every statement it is given.)
func FuzzLexerAgainstEngine(f *testing.F) {
	for _, s := range lexerSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseStatement(s)
		if err != nil || (st.Insert != nil && st.Insert.HasData) {
			return
		}
		if n := engineStatementCount(t, st.Text); n == 2 {
			t.Fatalf("our lexer sees one statement in %q, the engine more", st.Text)
		}
		if n := engineStatementCount(t, s); n == 2 {
			t.Fatalf("our lexer sees one statement in %q, the engine more", s)
		}
	})
}

// TestLexerAgreesWithEngine runs regression cases through the same check.
func TestLexerAgreesWithEngine(t *testing.T) {
	for _, s := range append(lexerSeeds,
		// ClickHouse also takes "# " and "#!" (not "#x") as line comments.
		"SELECT 1 # ;\nSELECT 2",
		"SELECT 1 #!\nSELECT 2",
		"SELECT 1 # ; SELECT 2",
		"SELECT 1 #; SELECT 2",
		"SELECT 1 #\t; SELECT 2",
	) {
		st, err := parseStatement(s)
		engine := engineStatementCount(t, s)
		switch {
		case err == nil && (st.Insert == nil || !st.Insert.HasData) && engine == 2:
			t.Errorf("%q: we see one statement, the engine more", s)
		case err != nil && strings.Contains(err.Error(), "Multi-statements") && engine == 1:
			t.Logf("%q: we refuse a second statement the engine does not see (safe)", s)
		}
	}
}

// FuzzRequestParsing feeds arbitrary URLs, headers and bodies through the
// request parsing path (compression, authentication, statement, insert
// data) and reads the data to its end: nothing may panic.
func FuzzRequestParsing(f *testing.F) {
	f.Add("query=SELECT+1", "", "", []byte(""))
	f.Add("", "gzip", "", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"))
	f.Add("decompress=1&query=INSERT+INTO+t+FORMAT+CSV", "", "", []byte("\x00\x01\x02"))
	f.Add("compress=1&network_compression_method=zstd", "zstd", "", []byte("SELECT 1"))
	f.Add("param_x=1&database=db&max_threads=2", "deflate", "Basic cmVhZGVyOng=", []byte("INSERT INTO t VALUES (1)"))
	f.Add("query=INSERT+INTO+t+VALUES", "", "", []byte("(1),(2)"))
	f.Add("%zz=1&=&query=%00", "br", "Bearer x", []byte("INSERT INTO t FORMAT"))
	f.Fuzz(func(t *testing.T, rawQuery, encoding, auth string, body []byte) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		r.URL.RawQuery = rawQuery
		if encoding != "" {
			r.Header.Set("Content-Encoding", encoding)
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		qv, _ := url.ParseQuery(rawQuery)
		resp := newResponder(testSrv, httptest.NewRecorder())
		if ex := testSrv.setupCompression(resp, r, qv); ex != nil {
			return
		}
		user, ex := testSrv.authenticate(r)
		if ex != nil {
			return
		}
		req, ex := testSrv.parseRequest(r, qv, user)
		if ex != nil {
			if ex.code == 0 {
				t.Fatalf("exception without a code: %v", ex)
			}
			return
		}
		if req.data != nil {
			_, _ = io.Copy(io.Discard, req.data)
			_ = req.bodyErr()
		}
	})
}

// TestServeHTTPMalformed sends requests no client should send.
func TestServeHTTPMalformed(t *testing.T) {
	for _, tc := range []struct {
		method, target, encoding, body string
	}{
		{"POST", "/?decompress=1", "", "garbage that is no compressed block"},
		{"POST", "/?query=INSERT+INTO+nope+FORMAT+CSV&decompress=1", "", "\x00\x00"},
		{"POST", "/", "gzip", "not gzip at all"},
		{"POST", "/", "zstd", "not zstd"},
		{"POST", "/", "br", "SELECT 1"},
		{"POST", "/?compress=1&network_compression_method=snappy", "", "SELECT 1"},
		{"PUT", "/", "", "SELECT 1"},
		{"POST", "/?query=" + url.QueryEscape("SELECT '"), "", ""},
		{"POST", "/", "", strings.Repeat("(", 10000)},
		{"POST", "/?database=" + url.QueryEscape("a`; DROP"), "", "SELECT 1"},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		if tc.encoding != "" {
			r.Header.Set("Content-Encoding", tc.encoding)
		}
		w := httptest.NewRecorder()
		testSrv.ServeHTTP(w, r)
		if w.Code < 400 {
			t.Errorf("%s %s (%s) %q: %d %s", tc.method, tc.target, tc.encoding, tc.body, w.Code, w.Body)
		}
		if tc.method != "PUT" && !strings.HasPrefix(w.Body.String(), "Code: ") {
			t.Errorf("%s %s: not a ClickHouse error: %q", tc.method, tc.target, w.Body)
		}
	}
	_ = http.StatusOK
}

// FuzzReadAST: any text read as EXPLAIN AST output never panics, and
// whatever it accepts is one tree whose table names came from its lines.
func FuzzReadAST(f *testing.F) {
	f.Add("SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier default.pt (alias a)\n")
	f.Add("Function in (children 1)\n ExpressionList (children 2)\n  Literal UInt64_1\n  Identifier db.t\n")
	f.Add("A (children 2)\n B\nC\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, ast string) {
		facts, ok := readAST(ast)
		if !ok {
			return
		}
		for _, ref := range facts.refs {
			if !strings.Contains(ast, ref) {
				t.Fatalf("table %q is not in the input", ref)
			}
		}
	})
}
