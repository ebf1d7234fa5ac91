package testenv

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// Logger returns a logger for code under test that writes to t's log, at
// warn and above (or the level named in TRAILWATCH_TEST_LOG), and drops
// what arrives after t ended: client goroutines can outlive a test by a
// moment.
func Logger(t testing.TB) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(os.Getenv("TRAILWATCH_TEST_LOG"))
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.WarnLevel
	}
	w := &tbWriter{t: t}
	t.Cleanup(w.stop)
	return zerolog.New(zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: "15:04:05"}).Level(lvl).With().Timestamp().Logger()
}

type tbWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// Buffer collects what code under test writes from its goroutines (logs,
// a child process's output) for the test to read while it runs: a
// bytes.Buffer behind a mutex.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
