package deploy

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Grafana side of a dashboard query, reproduced from the
// grafana-clickhouse-datasource plugin (v4) so the test runs exactly the
// SQL ClickHouse would receive:
//
//  1. the frontend replaces template variables (templateSrv.replace with the
//     plugin's format function: a multi-value variable becomes 'a','b',
//     a single value is pasted as it is, unquoted and unescaped);
//  2. the backend (grafana/sqlds) expands the plugin's macros, with the
//     dashboard's time range and the panel's interval.

// dashboard is the part of a dashboard JSON the test reads.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource datasourceRef   `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
}

// sql is the variable's query: a string, or an object with rawSql.
func (v variable) sql() (string, error) {
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var q struct {
		RawSQL string `json:"rawSql"`
	}
	if err := json.Unmarshal(v.Query, &q); err != nil {
		return "", fmt.Errorf("variable %s: query is neither a string nor an object with rawSql: %w", v.Name, err)
	}
	return q.RawSQL, nil
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID          int           `json:"id"`
	Type        string        `json:"type"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Datasource  datasourceRef `json:"datasource"`
	Targets     []target      `json:"targets"`
	Panels      []panel       `json:"panels"` // a collapsed row's panels
}

type target struct {
	RefID      string        `json:"refId"`
	Datasource datasourceRef `json:"datasource"`
	EditorType string        `json:"editorType"`
	RawSQL     string        `json:"rawSql"`
	Expr       string        `json:"expr"`
}

const (
	clickhouseType = "grafana-clickhouse-datasource"
	clickhouseUID  = "trailwatch-clickhouse"
	prometheusType = "prometheus"
	prometheusUID  = "trailwatch-prometheus"
)

func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob("grafana/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards under grafana/dashboards: %v", err)
	}
	out := map[string]dashboard{}
	uids := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: a dashboard needs a uid and a title (provisioning keys on the uid)", f)
		}
		if other, ok := uids[d.UID]; ok {
			t.Errorf("%s and %s share the uid %s", f, other, d.UID)
		}
		uids[d.UID] = f
		out[filepath.Base(f)] = d
	}
	return out
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// grafanaVarRe is templateSrv's variable syntax: $name, [[name]] and
// ${name}, ${name:format}, ${name.field}.
var grafanaVarRe = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

// replaceVariables does what templateSrv.replace(sql, scopedVars,
// plugin.format) does for the variables in vars: names it does not know
// (the plugin's $__macros among them) are left as they are.
func replaceVariables(sql string, vars map[string][]string, multi map[string]bool) (string, error) {
	var err error
	out := grafanaVarRe.ReplaceAllStringFunc(sql, func(m string) string {
		sub := grafanaVarRe.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[4]
		format := sub[3] + sub[6]
		vals, ok := vars[name]
		if !ok {
			return m
		}
		if format != "" {
			err = fmt.Errorf("variable %s: format %q is not reproduced by this test; use plain $%s", name, format, name)
			return m
		}
		if multi[name] {
			// The plugin's format(): an array becomes 'a','b' (values not escaped).
			return "'" + strings.Join(vals, "','") + "'"
		}
		return vals[0]
	})
	return out, err
}

// macroRange is what sqlds gives the plugin's macros.
type macroRange struct {
	From, To time.Time
	Interval time.Duration
}

// expandMacros expands the plugin's macros (pkg/macros/macros.go of
// grafana/clickhouse-datasource v4) as sqlds does: $__name, or
// $__name(args) with args split on commas at the top level.
func expandMacros(sql string, r macroRange) (string, error) {
	dt := func(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
	dt64 := func(t time.Time) string { return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", t.UnixMilli()) }
	date := func(t time.Time) string { return fmt.Sprintf("toDate('%s')", t.UTC().Format("2006-01-02")) }
	one := func(name string, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("$__%s: expected 1 argument, received %d", name, len(args))
		}
		return nil
	}
	macros := map[string]func(args []string) (string, error){
		"fromTime":    func([]string) (string, error) { return dt(r.From), nil },
		"toTime":      func([]string) (string, error) { return dt(r.To), nil },
		"fromTime_ms": func([]string) (string, error) { return dt64(r.From), nil },
		"toTime_ms":   func([]string) (string, error) { return dt64(r.To), nil },
		"timeFilter": func(a []string) (string, error) {
			if err := one("timeFilter", a); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], dt(r.From), a[0], dt(r.To)), nil
		},
		"timeFilter_ms": func(a []string) (string, error) {
			if err := one("timeFilter_ms", a); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], dt64(r.From), a[0], dt64(r.To)), nil
		},
		"dateFilter": func(a []string) (string, error) {
			if err := one("dateFilter", a); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], date(r.From), a[0], date(r.To)), nil
		},
		"timeInterval": func(a []string) (string, error) {
			if err := one("timeInterval", a); err != nil {
				return "", err
			}
			return fmt.Sprintf("toStartOfInterval(toDateTime(%s), INTERVAL %d second)", a[0], int(math.Max(r.Interval.Seconds(), 1))), nil
		},
		"timeInterval_ms": func(a []string) (string, error) {
			if err := one("timeInterval_ms", a); err != nil {
				return "", err
			}
			return fmt.Sprintf("toStartOfInterval(toDateTime64(%s, 3), INTERVAL %d millisecond)", a[0], int(math.Max(float64(r.Interval.Milliseconds()), 1))), nil
		},
		"interval_s": func([]string) (string, error) { return fmt.Sprint(int(math.Max(r.Interval.Seconds(), 1))), nil },
	}
	var b strings.Builder
	for {
		i := strings.Index(sql, "$__")
		if i < 0 {
			b.WriteString(sql)
			return b.String(), nil
		}
		b.WriteString(sql[:i])
		rest := sql[i+3:]
		n := 0
		for n < len(rest) && (rest[n] == '_' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= '0' && rest[n] <= '9') {
			n++
		}
		name := rest[:n]
		rest = rest[n:]
		fn, ok := macros[name]
		if !ok {
			return "", fmt.Errorf("macro $__%s is not one of the plugin's", name)
		}
		var args []string
		if strings.HasPrefix(rest, "(") {
			depth, end := 0, -1
			start := 1
			for j, c := range rest {
				switch c {
				case '(':
					depth++
				case ')':
					depth--
				case ',':
					if depth == 1 {
						args = append(args, strings.TrimSpace(rest[start:j]))
						start = j + 1
					}
				}
				if depth == 0 {
					end = j
					break
				}
			}
			if end < 0 {
				return "", fmt.Errorf("macro $__%s: unbalanced parentheses", name)
			}
			if s := strings.TrimSpace(rest[start:end]); s != "" || len(args) > 0 {
				args = append(args, s)
			}
			rest = rest[end+1:]
		}
		out, err := fn(args)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
		sql = rest
	}
}

func TestExpandMacrosAsThePlugin(t *testing.T) {
	r := macroRange{From: time.Unix(1700000000, 0), To: time.Unix(1700003600, 500e6), Interval: 5 * time.Minute}
	for _, c := range []struct{ in, want string }{
		{"WHERE $__timeFilter(ts)", "WHERE ts >= toDateTime(1700000000) AND ts <= toDateTime(1700003600)"},
		{"WHERE $__timeFilter_ms(ts)", "WHERE ts >= fromUnixTimestamp64Milli(1700000000000) AND ts <= fromUnixTimestamp64Milli(1700003600500)"},
		{"$__fromTime < x AND x < $__toTime_ms", "toDateTime(1700000000) < x AND x < fromUnixTimestamp64Milli(1700003600500)"},
		{"SELECT $__timeInterval(minute) AS time", "SELECT toStartOfInterval(toDateTime(minute), INTERVAL 300 second) AS time"},
		{"$__interval_s", "300"},
		{"$__dateFilter(day)", "day >= toDate('2023-11-14') AND day <= toDate('2023-11-14')"},
	} {
		got, err := expandMacros(c.in, r)
		if err != nil || got != c.want {
			t.Errorf("expandMacros(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"$__timeGroup(ts, '1m')", "$__timeFilter(a, b)", "$__timeFilter(ts"} {
		if got, err := expandMacros(bad, r); err == nil {
			t.Errorf("expandMacros(%q) = %q, want an error", bad, got)
		}
	}
}

func TestReplaceVariablesAsGrafana(t *testing.T) {
	vars := map[string][]string{"tenant": {"acme", "globex"}, "person": {"P1"}}
	multi := map[string]bool{"tenant": true}
	got, err := replaceVariables("tenant IN ($tenant) AND p = '${person}' AND x = '[[person]]' AND $__timeFilter(t) AND $other", vars, multi)
	want := "tenant IN ('acme','globex') AND p = 'P1' AND x = 'P1' AND $__timeFilter(t) AND $other"
	if err != nil || got != want {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
	if _, err := replaceVariables("${tenant:csv}", vars, multi); err == nil {
		t.Error("a format the test does not reproduce was accepted")
	}
}

// dedupRe finds how a query reads audit_events without counting an event
// twice (docs/STORAGE.md, "Reading without counting twice"): one row per
// id, distinct ids, or a set of distinct values (an IN list), where copies
// of an event cannot weigh.
var dedupRe = regexp.MustCompile(`(?i)LIMIT 1 BY id\b|uniqExact\(id\)|count\(DISTINCT id\)|SELECT DISTINCT`)

// TestDashboardsStatic checks what needs no database: data sources, query
// shapes, deduplication of audit_events, and that every metric a
// Prometheus panel names is one the code registers.
func TestDashboardsStatic(t *testing.T) {
	metrics := registeredMetrics(t)
	for file, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if v.Type == "query" && (v.Datasource.Type != clickhouseType || v.Datasource.UID != clickhouseUID) {
				t.Errorf("%s: variable %s: data source %+v, want the provisioned ClickHouse (%s)", file, v.Name, v.Datasource, clickhouseUID)
			}
		}
		for _, p := range allPanels(d.Panels) {
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
			for _, tg := range p.Targets {
				ds := tg.Datasource
				switch {
				case ds.Type == clickhouseType && ds.UID == clickhouseUID:
					if tg.EditorType != "sql" || strings.TrimSpace(tg.RawSQL) == "" {
						t.Errorf("%s: panel %q: a ClickHouse target needs editorType sql and rawSql", file, p.Title)
					}
					if strings.Contains(tg.RawSQL, "audit_events") && !dedupRe.MatchString(tg.RawSQL) {
						t.Errorf("%s: panel %q reads audit_events without deduplicating by id (LIMIT 1 BY id, uniqExact(id))", file, p.Title)
					}
				case ds.Type == prometheusType && ds.UID == prometheusUID:
					if tg.Expr == "" {
						t.Errorf("%s: panel %q: a Prometheus target needs expr", file, p.Title)
					}
					for _, m := range metricRe.FindAllString(tg.Expr, -1) {
						if !metrics[m] && !metrics[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")] {
							t.Errorf("%s: panel %q: metric %s is not registered anywhere in the code", file, p.Title, m)
						}
					}
				default:
					t.Errorf("%s: panel %q: data source %+v is not one the provisioning defines", file, p.Title, ds)
				}
			}
		}
	}
}

var metricRe = regexp.MustCompile(`trailwatch_[a-z0-9_]+`)

// registeredMetrics collects metric names from the Go sources: quoted
// "trailwatch_…" literals, and the detector's names built from a prefix.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	lit := regexp.MustCompile(`"(trailwatch_[a-z0-9_]+)"`)
	detectName := regexp.MustCompile(`counter\("([a-z0-9_]+)"`)
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "deploy") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		if strings.Contains(string(b), `"trailwatch_detect_" + name`) {
			for _, m := range detectName.FindAllStringSubmatch(string(b), -1) {
				names["trailwatch_detect_"+m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !names["trailwatch_kafka_consumer_lag_messages"] || !names["trailwatch_detect_alerts_total"] {
		t.Fatalf("the metric scan found too little (%d names): has the code moved?", len(names))
	}
	return names
}

// sortedKeys is for stable test output.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
