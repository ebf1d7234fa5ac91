package runner

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2 := file("memory.max", "2147483648\n")
	v2max := file("memory.max.unlimited", "max\n")
	v1 := file("limit_in_bytes", "1073741824\n")
	v1max := file("limit_in_bytes.unlimited", "9223372036854771712\n")
	bad := file("bad", "lots\n")
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		name   string
		bytes  int64
		env    string
		files  []string
		limit  int64
		source string
	}{
		{"GOMEMLIMIT wins", 1 << 30, "1GiB", []string{v2}, 0, "GOMEMLIMIT"},
		{"configured", 3 << 30, "", []string{v2}, 3 << 30, "detect.memory_limit_bytes"},
		{"cgroup v2", 0, "", []string{v2, v1}, 2147483648 / 10 * 9, v2},
		{"cgroup v1 when v2 is missing", 0, "", []string{missing, v1}, 1073741824 / 10 * 9, v1},
		{"cgroup v2 unlimited", 0, "", []string{v2max, v1max}, 0, ""},
		{"unreadable limit skipped", 0, "", []string{bad, v1}, 1073741824 / 10 * 9, v1},
		{"no cgroup", 0, "", []string{missing}, 0, ""},
	} {
		limit, source := memoryLimit(c.bytes, c.env, c.files)
		if limit != c.limit || source != c.source {
			t.Errorf("%s: got %d from %q, want %d from %q", c.name, limit, source, c.limit, c.source)
		}
	}
}
