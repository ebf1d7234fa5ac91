package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type pos struct {
	Offset int64 `json:"offset"`
	Line   int   `json:"line"`
}

func TestSaveLoad(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cp"))
	if err != nil {
		t.Fatal(err)
	}
	var p pos
	if ok, err := s.Load("f1", &p); ok || err != nil {
		t.Fatalf("fresh store: %v %v", ok, err)
	}
	for i := range 3 {
		if err := s.Save("f1", pos{Offset: int64(i * 100), Line: i}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.Load("f1", &p); !ok || err != nil || p != (pos{200, 2}) {
		t.Fatalf("load: %v %v %+v", ok, err, p)
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want the checkpoint alone (no temporary files left)", len(entries))
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "bad.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("bad", &p); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt checkpoint: %v", err)
	}
	if err := s.Save("../escape", p); err == nil {
		t.Error("a name with a path was accepted")
	}
}

func TestLockIsExclusive(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock("poll-hubspot")
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open files: a second open file is refused, as
	// another process would be.
	if _, err := s.Lock("poll-hubspot"); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	u2, err := s.Lock("poll-hubspot")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	u2()
}
