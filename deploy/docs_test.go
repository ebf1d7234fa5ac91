package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// metricNameRe is the shape of the project's metric names: a stage, then
// what (docs/CONTRIBUTING.md); ClickHouse users and roles share the prefix.
var metricNameRe = regexp.MustCompile(`^trailwatch_(ingest|detect|sink|respond|kafka|deadletter|clickhouse)_[a-z0-9_]+$`)

// TestDocsNameRealSettingsAndMetrics: every setting the operating and
// security documents name in backquotes is a setting of docs/CONFIG.md
// (generated from the code), or a key under one of its YAML-only lists and
// maps; every metric name is one the code registers.
func TestDocsNameRealSettingsAndMetrics(t *testing.T) {
	cfg, err := os.ReadFile("../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_.]+)` \\|").FindAllStringSubmatch(string(cfg), -1) {
		settings[m[1]] = true
	}
	if len(settings) < 100 {
		t.Fatalf("read %d settings from docs/CONFIG.md: has its table changed?", len(settings))
	}
	sections := map[string]bool{}
	for s := range settings {
		sections[strings.SplitN(s, ".", 2)[0]] = true
	}
	known := func(name string) bool {
		if settings[name] {
			return true
		}
		for s := range settings {
			// A section (`respond.protected`) or a key under a YAML-only
			// list or map (`respond.tenants`, `ingest.http.sources`).
			if strings.HasPrefix(s, name+".") || strings.HasPrefix(name, s+".") {
				return true
			}
		}
		return false
	}
	metrics := registeredMetrics(t)
	token := regexp.MustCompile("`([^`\\s]+)`")
	for _, doc := range []string{"../docs/SECURITY.md", "../docs/OPERATIONS.md", "../docs/DEPLOY.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range token.FindAllStringSubmatch(string(b), -1) {
			name := strings.TrimSuffix(m[1], ":")
			name, _, _ = strings.Cut(name, "{") // metric{label="…"}
			name, _, _ = strings.Cut(name, ":") // setting: value
			if regexp.MustCompile(`^[a-z_]+(\.[a-z0-9_]+)+$`).MatchString(name) && sections[strings.SplitN(name, ".", 2)[0]] {
				if !known(name) {
					t.Errorf("%s names setting %s, which docs/CONFIG.md does not list", doc, name)
				}
			}
		}
		for _, name := range metricRe.FindAllString(string(b), -1) {
			if !metricNameRe.MatchString(name) {
				continue // a ClickHouse user or role (trailwatch_sink, trailwatch_writer)
			}
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if !metrics[name] && !metrics[base] && !strings.HasSuffix(name, "_") {
				t.Errorf("%s names %s, which the code does not register", doc, name)
			}
		}
	}
}
