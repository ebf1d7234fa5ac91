package chserver

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// nativeHeaderColumns reads the column names and types of the first block
// of a revision-0 Native reply.
func nativeHeaderColumns(t testing.TB, body string) []column {
	t.Helper()
	w := &walker{b: []byte(body)}
	ncols, err := w.uvarint()
	if err != nil {
		t.Fatalf("native reply %q: %v", body, err)
	}
	rows, _ := w.uvarint()
	var cols []column
	for range ncols {
		name, err := w.str()
		if err != nil {
			t.Fatal(err)
		}
		typ, err := w.str()
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, column{name, typ})
		if rows > 0 {
			ct := parseType(typ)
			if err := w.prefix(ct); err != nil {
				t.Fatal(err)
			}
			if err := w.data(ct, rows); err != nil {
				t.Fatal(err)
			}
		}
	}
	return cols
}

// TestGrafanaRequests replays what Grafana's ClickHouse data source sends
// (shared/grafana-http.md): POST, SQL as the raw body, no Content-Type.
func TestGrafanaRequests(t *testing.T) {
	admin(t, "CREATE DATABASE IF NOT EXISTS analytics")
	admin(t, "CREATE DATABASE IF NOT EXISTS empty_db")
	admin(t, "CREATE TABLE IF NOT EXISTS analytics.events (ts DateTime64(3, 'UTC'), tenant LowCardinality(String), n UInt32) ENGINE = MergeTree ORDER BY ts")
	admin(t, "TRUNCATE TABLE analytics.events")
	admin(t, "INSERT INTO analytics.events VALUES (now64(), 'a', 1), (now64(), 'b', 2), (now64(), 'a', 3)")
	params := "client_protocol_version=54460&database=analytics&default_format=Native&limit=1000000&max_execution_time=14"
	grafana := func(sql, user string) reply {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", testURL+"/?"+params, strings.NewReader(sql))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Del("Content-Type")
		name, pass, _ := strings.Cut(user, ":")
		req.SetBasicAuth(name, pass)
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("X-Grafana-User", "analyst")
		req.Header.Set("X-Dashboard-Uid", "abc")
		req.Header.Set("User-Agent", "clickhouse-go/2.47.0 (lv:go/1.24; os:linux) grafana-datasource/4.20.0 "+strings.Repeat("x", 300))
		resp, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", sql, resp.StatusCode, b)
		}
		return reply{resp.StatusCode, resp.Header, string(b)}
	}
	for _, user := range []string{"admin:" + adminPassword, "reader:" + readerPassword} {
		t.Run(strings.Split(user, ":")[0], func(t *testing.T) {
			hello := grafana("SELECT displayName(), version(), revision(), timezone()", user)
			if !strings.Contains(hello.body, "timezone()") || !strings.Contains(hello.body, "UTC") {
				t.Fatalf("hello %q", hello.body)
			}
			one := nativeHeaderColumns(t, grafana("SELECT 1", user).body)
			if len(one) != 1 || one[0].name != "1" {
				t.Fatalf("SELECT 1 columns %v, want one named 1", one)
			}
			checks := []struct {
				sql   string
				first column
			}{
				{"SHOW DATABASES", column{"name", "String"}},
				{`DESC TABLE "analytics"."events"`, column{"name", "String"}},
				{"SELECT name, is_aggregate FROM system.functions LIMIT 10000", column{"name", "String"}},
				{"SELECT version()", column{"version()", "String"}},
				{"SELECT currentDatabase()", column{"currentDatabase()", "String"}},
				{"SELECT toStartOfInterval(toDateTime(ts), INTERVAL 60 second) AS time, count() FROM events WHERE ts >= toDateTime(1700000000) GROUP BY time ORDER BY time", column{"time", "DateTime('UTC')"}},
			}
			for _, c := range checks {
				cols := nativeHeaderColumns(t, grafana(c.sql, user).body)
				if len(cols) == 0 || cols[0] != c.first {
					t.Errorf("%s: columns %v, want first %v", c.sql, cols, c.first)
				}
			}
			// An empty SHOW names its column, as a server's header block does.
			if cols := nativeHeaderColumns(t, grafana(`SHOW TABLES FROM "empty_db"`, user).body); len(cols) != 1 || cols[0] != (column{"name", "String"}) {
				t.Errorf("empty SHOW TABLES: columns %v", cols)
			}
			// A panel query with an ad-hoc filter appended: readonly=2
			// semantics let a reader set it.
			r := grafana("SELECT sum(n) AS s FROM events settings additional_table_filters={'events' : 'tenant = \\'a\\''}", user)
			cols := nativeHeaderColumns(t, r.body)
			if len(cols) != 1 || !strings.HasSuffix(r.body, "\x04\x00\x00\x00\x00\x00\x00\x00") {
				t.Fatalf("filtered sum: %q", r.body)
			}
		})
	}
}
