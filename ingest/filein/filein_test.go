package filein

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/checkpoint"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

type rejectLog struct {
	mu  sync.Mutex
	got []string // "file:line:reason"
}

func (r *rejectLog) add(file string, rej ingest.Rejected) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%s:%d:%s", filepath.Base(file), rej.Line, rej.Reason))
}

type fixture struct {
	env testenv.KafkaEnv
	pub *ingest.Publisher
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	env := testenv.Kafka(t)
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	pub, err := ingest.NewPublisher(p, env.Config.Topics, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{env: env, pub: pub}
}

func (fx fixture) collector(t *testing.T, src ingest.Source, opts Options) *Collector {
	t.Helper()
	p, err := ingest.NewParser(src, "", ingest.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.BatchSize = 100
	cfg.PollInterval = 10 * time.Millisecond
	cfg.CheckpointInterval = 0
	c, err := New(fx.pub, p, cfg, opts, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write(t *testing.T, path string, data []byte, appendTo bool) {
	t.Helper()
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFileWithBadLines: good lines are published, bad ones dead-lettered
// with file and line, and reported; the summary counts both.
func TestFileWithBadLines(t *testing.T) {
	fx := newFixture(t)
	now := time.Now()
	var in bytes.Buffer
	in.Write(ingesttest.NDJSON(0, 250, now))
	in.WriteString("{not json\n\n")                                                                        // line 251 (252 blank)
	in.WriteString(`{"id":"x","timestamp":"` + now.UTC().Format("2006-01-02T15:04:05.000Z") + `"}` + "\n") // line 253
	in.Write(ingesttest.NDJSON(250, 50, now))                                                              // lines 254..303
	in.WriteString(strings.TrimSuffix(string(ingesttest.Event(300, now)), "\n"))                           // line 304, no final newline
	path := filepath.Join(t.TempDir(), "events.ndjson")
	write(t, path, in.Bytes(), false)

	var rl rejectLog
	c := fx.collector(t, ingest.Source{Name: "file", Tenant: "acme"}, Options{OnReject: rl.add})
	sum, err := c.Run(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Files: 1, Accepted: 301, Rejected: 2}) {
		t.Fatalf("summary %+v", sum)
	}
	if want := []string{"events.ndjson:251:syntax", "events.ndjson:253:required"}; !slices.Equal(rl.got, want) {
		t.Errorf("rejects %v, want %v", rl.got, want)
	}
	if ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)); len(ids) != 301 || !ids[ingesttest.ID(300)] {
		t.Errorf("published %d distinct ids", len(ids))
	}
	for _, d := range ingesttest.DeadLetters(t, fx.env) {
		raw, _ := d.Bytes()
		if d.Origin.File != path || d.Origin.Collector != "file" || d.Origin.Source != "file" ||
			(d.Origin.Line == 251) != (string(raw) == "{not json") {
			t.Errorf("dead letter %+v raw %q", d.Origin, raw)
		}
	}
}

// TestStdinAndDirectory: standard input, and a directory read in name
// order with hidden files and subdirectories left out.
func TestStdinAndDirectory(t *testing.T) {
	fx := newFixture(t)
	now := time.Now()
	c := fx.collector(t, ingest.Source{Name: "file"}, Options{})
	sum, err := c.Run(t.Context(), "-", bytes.NewReader(ingesttest.NDJSON(0, 10, now)))
	if err != nil || sum.Accepted != 10 {
		t.Fatalf("stdin: %+v %v", sum, err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b.ndjson"), ingesttest.NDJSON(20, 5, now), false)
	write(t, filepath.Join(dir, "a.ndjson"), ingesttest.NDJSON(10, 10, now), false)
	write(t, filepath.Join(dir, ".hidden"), []byte("garbage\n"), false)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	c = fx.collector(t, ingest.Source{Name: "file"}, Options{})
	sum, err = c.Run(t.Context(), dir, nil)
	if err != nil || sum != (Summary{Files: 2, Accepted: 15}) {
		t.Fatalf("directory: %+v %v", sum, err)
	}
	if ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)); len(ids) != 25 {
		t.Errorf("published %d ids", len(ids))
	}
}

// TestCSVFile reads an Event Log File CSV: rows become events, a row with
// the wrong number of fields goes to the dead-letter topic with its bytes.
func TestCSVFile(t *testing.T) {
	fx := newFixture(t)
	csv := "TIMESTAMP,USER_ID,BROWSER_TYPE,LOGIN_STATUS\n" +
		"20130715233322.670,005B0000001vURv,\"Mozilla\n(multi-line)\",LOGIN_NO_ERROR\n" +
		"20130715233322.671,005B0000001vURv\n" +
		"20130715233322.672,005B0000001vURv,curl,LOGIN_ERROR_INVALID_PASSWORD\n"
	path := filepath.Join(t.TempDir(), "Login.csv")
	write(t, path, []byte(csv), false)
	var rl rejectLog
	c := fx.collector(t, ingest.Source{Name: "sf-elf", Tenant: "acme", Format: "salesforce-elf-login", Backfill: true}, Options{OnReject: rl.add})
	sum, err := c.Run(t.Context(), path, nil)
	if err != nil || sum.Accepted != 2 || sum.Rejected != 1 {
		t.Fatalf("%+v %v %v", sum, err, rl.got)
	}
	if rl.got[0] != "Login.csv:4:malformed" {
		t.Errorf("rejects %v", rl.got)
	}
	dead := ingesttest.DeadLetters(t, fx.env)
	if raw, _ := dead[0].Bytes(); len(dead) != 1 || string(raw) != "20130715233322.671,005B0000001vURv" {
		t.Errorf("dead letter raw %q", raw)
	}
}

// waitFor polls until the checkpoint of c following path says offset, or
// fails after a minute. It waits for progress; it asserts no timing.
func waitFor(t *testing.T, c *Collector, store *checkpoint.Store, path, file string, offset int64) {
	t.Helper()
	abs, _ := filepath.Abs(path)
	name := c.checkpointName(abs)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var st state
		if ok, _ := store.Load(name, &st); ok {
			if fs := st.Files[file]; fs != nil && fs.Offset == offset {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the checkpoint of %s never reached offset %d", file, offset)
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestFollowResumesWithNoGapAndNoDuplicate follows a growing file, stops
// the collector while data is still arriving, appends while it is down,
// restarts it, and finds every event exactly once; a line written in two
// parts is read once it is complete; a new file in the directory is picked
// up; a replaced (rotated) file is read from its start.
func TestFollowResumesWithNoGapAndNoDuplicate(t *testing.T) {
	fx := newFixture(t)
	now := time.Now()
	dir := t.TempDir()
	store, err := checkpoint.Open(filepath.Join(t.TempDir(), "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.ndjson")
	half := ingesttest.Event(1000, now)
	write(t, a, append(ingesttest.NDJSON(0, 1000, now), half[:100]...), false) // ends mid-line

	run := func() (context.CancelFunc, chan error, *Collector) {
		c := fx.collector(t, ingest.Source{Name: "file", Tenant: "acme"}, Options{Follow: true, Store: store})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := c.Run(ctx, dir, nil); done <- err }()
		return cancel, done, c
	}
	cancel, done, c := run()
	waitFor(t, c, store, dir, a, size(t, a)-100) // everything but the half line
	write(t, a, append(half[100:], '\n'), true)
	write(t, a, ingesttest.NDJSON(1001, 999, now), true)
	waitFor(t, c, store, dir, a, size(t, a))
	write(t, a, ingesttest.NDJSON(2000, 3000, now), true)
	cancel() // while those 3000 are being read
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}
	write(t, a, ingesttest.NDJSON(5000, 1000, now), true) // while stopped
	b := filepath.Join(dir, "b.ndjson")

	cancel, done, c = run()
	waitFor(t, c, store, dir, a, size(t, a))
	write(t, b, ingesttest.NDJSON(6000, 500, now), false) // a new file
	waitFor(t, c, store, dir, b, size(t, b))
	// Rotation: b is replaced by a new file (another inode) with other events.
	tmp := filepath.Join(t.TempDir(), "b2")
	write(t, tmp, ingesttest.NDJSON(6500, 200, now), false)
	if err := os.Rename(tmp, b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, store, dir, b, size(t, b))
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("second run: %v", err)
	}

	ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)) // fails on a duplicate
	if len(ids) != 6700 {
		t.Fatalf("published %d distinct ids, want 6700", len(ids))
	}
	for i := range 6700 {
		if !ids[ingesttest.ID(i)] {
			t.Fatalf("event %d is missing", i)
		}
	}
}

// TestFollowCSVWaitsForCompleteRows: a quoted field whose line break has
// arrived but whose closing quote has not is not a complete row yet.
func TestFollowCSVWaitsForCompleteRows(t *testing.T) {
	fx := newFixture(t)
	store, err := checkpoint.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "Login.csv")
	header := "TIMESTAMP,USER_ID,BROWSER_TYPE\n"
	row1 := "20130715233322.670,005B0000001vURv,curl\n"
	part := "20130715233322.671,005B0000001vURv,\"two\n"
	write(t, path, []byte(header+row1+part), false)
	c := fx.collector(t, ingest.Source{Name: "sf-elf", Tenant: "acme", Format: "salesforce-elf-login", Backfill: true}, Options{Follow: true, Store: store})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Run(ctx, path, nil); done <- err }()
	waitFor(t, c, store, path, mustAbs(path), int64(len(header+row1)))
	write(t, path, []byte("lines\"\n"), true)
	waitFor(t, c, store, path, mustAbs(path), size(t, path))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ids := ingesttest.Published(t, fx.env); len(ids) != 2 {
		t.Fatalf("published %v", ids)
	}
	if dead := ingesttest.DeadLetters(t, fx.env); len(dead) != 0 {
		t.Fatalf("dead letters %+v", dead)
	}
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return abs
}
