package chdb

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestLockNamesHolder(t *testing.T) {
	dir := t.TempDir()
	f, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlockDir(f)
	// flock locks belong to the open file description, so a second lock
	// attempt from this process conflicts exactly as another process would.
	_, err = lockDir(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error does not name the holder: %v", err)
	}
	if !strings.Contains(err.Error(), "over HTTP") {
		t.Errorf("error does not say what to do: %v", err)
	}
	unlockDir(f)
	g, err := lockDir(dir)
	if err != nil {
		t.Fatalf("relock after unlock: %v", err)
	}
	unlockDir(g)
}

func TestMissingLibrary(t *testing.T) {
	_, err := openLibrary("/nonexistent/libchdb.so")
	if !errors.Is(err, ErrLibraryMissing) || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("got %v", err)
	}
}
