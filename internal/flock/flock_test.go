//go:build unix

package flock

import (
	"path/filepath"
	"strings"
	"testing"
)

// A second lock on a held file is refused, naming the file; after unlock
// it is granted. (flock locks belong to open files, so two opens in one
// process exclude each other as two processes would.)
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("second lock: %v, want refused naming %s", err, path)
	}
	unlock()
	again, err := Lock(path)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
}
