package report

import (
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"name: r\nperiod: 24h\nsections:\n  - query: exports-by-person\n    params: {min_records: \"5\"}\n    chart: {kind: bar, x: a, y: b}\n",
		"name: r\nparams: [object_id]\nsections:\n  - query: record-access\n",
		"sections: 5\n", "- a\n- b\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b, "f.yaml")
		if err == nil && (d.Name == "" || len(d.Sections) == 0) {
			t.Fatalf("accepted %q", b)
		}
	})
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"*/15 * * * *", "0 7 * * 1-5", "@daily", "0 0 1,15 * 0", "5-1 * * * *", "* * * * 7/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCron(s)
		if err != nil {
			return
		}
		from := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		if n := c.Next(from, time.UTC); !n.IsZero() && (!n.After(from) || n.Second() != 0 || !c.matches(n)) {
			t.Fatalf("%q: next %s after %s", s, n, from)
		}
	})
}
