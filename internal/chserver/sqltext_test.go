package chserver

import (
	"strings"
	"testing"
)

func TestParseStatement(t *testing.T) {
	tests := []struct {
		in       string
		kind     string
		text     string
		format   string
		insert   *Insert
		errMatch string
	}{
		{in: "SELECT 1", kind: "SELECT", text: "SELECT 1"},
		{in: "  select 1 ;  ", kind: "SELECT", text: "  select 1"},
		{in: "SELECT 1;;", kind: "SELECT", text: "SELECT 1"},
		{in: "(SELECT 1)", kind: "SELECT", text: "(SELECT 1)"},
		{in: "SELECT 1; SELECT 2", errMatch: "Multi-statements"},
		{in: "SELECT 1; -- trailing comment", kind: "SELECT", text: "SELECT 1"},
		{in: "SELECT ';' ; INSERT INTO t VALUES (1)", errMatch: "Multi-statements"},
		{in: "SELECT 'a;b'", kind: "SELECT", text: "SELECT 'a;b'"},
		{in: `SELECT 'it\'s;'`, kind: "SELECT", text: `SELECT 'it\'s;'`},
		{in: "SELECT 'it''s;'", kind: "SELECT", text: "SELECT 'it''s;'"},
		{in: "SELECT \"a;b\", `c;d`", kind: "SELECT", text: "SELECT \"a;b\", `c;d`"},
		{in: "SELECT $$x;y$$", kind: "SELECT", text: "SELECT $$x;y$$"},
		{in: "SELECT $tag$x;$$y$tag$", kind: "SELECT", text: "SELECT $tag$x;$$y$tag$"},
		{in: "SELECT /* a /* ; */ ; */ 1", kind: "SELECT", text: "SELECT /* a /* ; */ ; */ 1"},
		{in: "SELECT 1 /* ; */ ; /* x */", kind: "SELECT", text: "SELECT 1 /* ; */"},
		{in: "SELECT 1 -- ; INSERT\n", kind: "SELECT", text: "SELECT 1 -- ; INSERT"},
		{in: "SELECT 1 # ; INSERT\n", kind: "SELECT", text: "SELECT 1 # ; INSERT"},
		// Found by FuzzLexerAgainstEngine: '$' inside a word is no heredoc.
		{in: "A$a$;$a$", errMatch: "heredoc is not closed"},
		{in: "SELECT 1 AS x$a$; DROP TABLE t; $a$", errMatch: "Multi-statements"},
		{in: "SELECT x$y FROM t", kind: "SELECT", text: "SELECT x$y FROM t"},
		{in: "SELECT 1 #! ; INSERT", kind: "SELECT", text: "SELECT 1 #! ; INSERT"},
		{in: "SELECT 1 #c ; INSERT INTO t VALUES (1)", errMatch: "Multi-statements"},
		{in: "SELECT 1 # x\n; DROP TABLE t", errMatch: "Multi-statements"},
		{in: "SELECT 1 /* unterminated", errMatch: "comment is not closed"},
		{in: "SELECT /* /* */ 1; DROP TABLE t", errMatch: "comment is not closed"},
		{in: "SELECT 'x", errMatch: "string is not closed"},
		{in: "SELECT `x", errMatch: "identifier is not closed"},
		{in: "SELECT $$x", errMatch: "heredoc is not closed"},
		{in: "", errMatch: "empty query"},
		{in: "-- only a comment", errMatch: "empty query"},
		{in: "SELECT 1 FORMAT JSON", kind: "SELECT", format: "JSON", text: "SELECT 1 FORMAT JSON"},
		{in: "SELECT 1 FORMAT JSON SETTINGS max_threads = 1", kind: "SELECT", format: "JSON", text: "SELECT 1 FORMAT JSON SETTINGS max_threads = 1"},
		{in: "SELECT format FROM t", kind: "SELECT", text: "SELECT format FROM t"},
		{in: "SELECT 1 AS format", kind: "SELECT", text: "SELECT 1 AS format"},
		{in: "SELECT (SELECT 1 FORMAT CSV)", kind: "SELECT", text: "SELECT (SELECT 1 FORMAT CSV)"},
		{in: "show tables", kind: "SHOW", text: "show tables"},
		{
			in: "INSERT INTO t FORMAT CSV\n1,a\n2;b\n", kind: "INSERT", text: "INSERT INTO t FORMAT CSV",
			insert: &Insert{Target: "INSERT INTO t", Format: "CSV", Data: "1,a\n2;b\n", HasData: true},
		},
		{
			in: "INSERT INTO t FORMAT CSV 1,a", kind: "INSERT", text: "INSERT INTO t FORMAT CSV",
			insert: &Insert{Target: "INSERT INTO t", Format: "CSV", Data: "1,a", HasData: true},
		},
		{
			in: "INSERT INTO db.t (a, b) SETTINGS async_insert=1 FORMAT Native", kind: "INSERT",
			text:   "INSERT INTO db.t (a, b) SETTINGS async_insert=1 FORMAT Native",
			insert: &Insert{Target: "INSERT INTO db.t (a, b)", Settings: "async_insert=1", Format: "Native", HasData: true},
		},
		{
			in: "insert into `x y` values (1, 'a;b'); (2)", kind: "INSERT", text: "insert into `x y` values",
			insert: &Insert{Target: "insert into `x y`", Format: "Values", Data: " (1, 'a;b'); (2)", HasData: true},
		},
		{
			in: "INSERT INTO format FORMAT TSV\n", kind: "INSERT", text: "INSERT INTO format FORMAT TSV",
			insert: &Insert{Target: "INSERT INTO format", Format: "TSV", HasData: true},
		},
		{
			in: "INSERT INTO TABLE t SELECT * FROM u", kind: "INSERT", text: "INSERT INTO TABLE t SELECT * FROM u",
			insert: &Insert{Target: "INSERT INTO TABLE t SELECT * FROM u"},
		},
		{
			in: "INSERT INTO t (SELECT 1)", kind: "INSERT", text: "INSERT INTO t (SELECT 1)",
			insert: &Insert{Target: "INSERT INTO t (SELECT 1)"},
		},
		{
			in: "INSERT INTO FUNCTION file('x', 'CSV') FORMAT CSV\n1", kind: "INSERT", text: "INSERT INTO FUNCTION file('x', 'CSV') FORMAT CSV",
			insert: &Insert{Target: "INSERT INTO FUNCTION file('x', 'CSV')", Format: "CSV", Data: "1", HasData: true, Function: true},
		},
		{in: "INSERT INTO t SELECT 1; DROP TABLE t", errMatch: "Multi-statements"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			st, err := parseStatement(tc.in)
			if tc.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMatch) {
					t.Fatalf("err = %v, want %q", err, tc.errMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Kind != tc.kind || st.Text != tc.text || st.Format != tc.format {
				t.Fatalf("got kind=%q text=%q format=%q", st.Kind, st.Text, st.Format)
			}
			if tc.insert != nil {
				if st.Insert == nil || *st.Insert != *tc.insert {
					t.Fatalf("insert = %+v, want %+v", st.Insert, tc.insert)
				}
			}
		})
	}
}

func FuzzParseStatement(f *testing.F) {
	for _, s := range []string{"SELECT 1", "INSERT INTO t VALUES (1)", "SELECT '\\'';", "/* /* */ */ SELECT $a$;$a$", "INSERT INTO t FORMAT CSV\n1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseStatement(s)
		if err != nil {
			return
		}
		if st.Insert != nil && st.Insert.HasData {
			if !strings.HasPrefix(s, st.Text) || !strings.HasSuffix(s, st.Insert.Data) {
				t.Fatalf("insert split does not partition the input: %q -> %+v", s, st.Insert)
			}
			return
		}
		// A statement we accept re-lexes to itself with no second statement.
		again, err := parseStatement(st.Text)
		if err != nil {
			t.Fatalf("accepted %q but its text %q fails: %v", s, st.Text, err)
		}
		if again.Text != st.Text {
			t.Fatalf("not idempotent: %q -> %q", st.Text, again.Text)
		}
	})
}
