package chdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Options configure Open.
type Options struct {
	// LibraryPath is libchdb.so; empty means DefaultLibraryPath().
	LibraryPath string
	// Path is the data directory. It is created if missing and locked for
	// the life of the Engine.
	Path string
	// ConfigFile is an optional ClickHouse server configuration file
	// (users, profiles, storage policies) passed to the engine.
	ConfigFile string
	// Args are extra engine arguments (`--setting=value`).
	Args []string
}

// Stats are the engine's figures for one statement.
type Stats struct {
	RowsRead     uint64
	BytesRead    uint64
	RowsWritten  uint64
	BytesWritten uint64
	Elapsed      time.Duration
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.RowsRead += o.RowsRead
	s.BytesRead += o.BytesRead
	s.RowsWritten += o.RowsWritten
	s.BytesWritten += o.BytesWritten
	s.Elapsed += o.Elapsed
}

// Error is an exception the engine raised.
type Error struct {
	Code    int    // ClickHouse error code, 0 when the text carried none
	Message string // the engine's text, starting "Code: N. DB::Exception: …" when it has a code
}

func (e *Error) Error() string { return e.Message }

var codeRE = regexp.MustCompile(`^Code: (\d+)\.`)

func newError(text string) *Error {
	text = strings.TrimSpace(text)
	e := &Error{Message: text}
	if m := codeRE.FindStringSubmatch(text); m != nil {
		e.Code, _ = strconv.Atoi(m[1])
	}
	return e
}

// ErrClosed is returned for calls on a closed Engine.
var ErrClosed = errors.New("chdb: engine closed")

// ErrBusy is returned by Open when another Engine is open in this process.
var ErrBusy = errors.New("chdb: an engine is already open in this process (libchdb allows one connection per process)")

// openMu guards the process-wide rule of one open engine at a time.
var (
	openMu     sync.Mutex
	openEngine *Engine
)

// Engine is the one connection to libchdb in this process. Every statement
// runs under its lock: the library runs one statement at a time, and
// session state (SET, parameters) must not leak between callers.
type Engine struct {
	lib  *library
	path string
	lock *os.File

	sem  chan struct{} // one holder at a time; a channel so waiting honours ctx
	conn *unsafe.Pointer
}

// Open loads the library, locks the data directory and connects.
func Open(opts Options) (*Engine, error) {
	if opts.Path == "" {
		return nil, errors.New("chdb: a data directory is required")
	}
	libPath := opts.LibraryPath
	if libPath == "" {
		libPath = DefaultLibraryPath()
	}
	lib, err := loadLibrary(libPath)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("chdb: data directory %s: %w", opts.Path, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("chdb: creating data directory: %w", err)
	}

	openMu.Lock()
	defer openMu.Unlock()
	if openEngine != nil {
		return nil, fmt.Errorf("%w: %s is open", ErrBusy, openEngine.path)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}

	args := []string{"trailwatch", "--path=" + dir}
	if opts.ConfigFile != "" {
		args = append(args, "--config-file="+opts.ConfigFile)
	}
	args = append(args, opts.Args...)
	cargs := make([][]byte, len(args))
	argv := make([]*byte, len(args)+1)
	for i, a := range args {
		cargs[i] = append([]byte(a), 0)
		argv[i] = &cargs[i][0]
	}
	conn := lib.connect(int32(len(args)), &argv[0])
	runtime.KeepAlive(cargs)
	if conn == nil || *conn == nil {
		unlockDir(lock)
		return nil, fmt.Errorf("chdb: connecting to %s failed (see the engine's log on stderr)", dir)
	}
	e := &Engine{lib: lib, path: dir, lock: lock, sem: make(chan struct{}, 1), conn: conn}
	openEngine = e
	return e, nil
}

// Path is the engine's data directory.
func (e *Engine) Path() string { return e.path }

// Close closes the connection and releases the data directory. The
// library's exit handlers crash if a connection is still open when the
// process exits, so every Open must be paired with Close.
func (e *Engine) Close() error {
	e.sem <- struct{}{}
	defer func() { <-e.sem }()
	if e.conn == nil {
		return nil
	}
	e.lib.closeConn(e.conn)
	e.conn = nil
	unlockDir(e.lock)
	openMu.Lock()
	if openEngine == e {
		openEngine = nil
	}
	openMu.Unlock()
	return nil
}

// Acquire waits (until ctx is done) for exclusive use of the engine and
// returns a Conn that holds it until Release. Statements that share session
// state (SET, then a statement, then SET … = DEFAULT) run on one Conn.
func (e *Engine) Acquire(ctx context.Context) (*Conn, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.conn == nil {
		<-e.sem
		return nil, ErrClosed
	}
	return &Conn{e: e}, nil
}

// Query runs one statement on its own and returns its whole result.
func (e *Engine) Query(ctx context.Context, sql, format string, params ...Param) ([]byte, Stats, error) {
	c, err := e.Acquire(ctx)
	if err != nil {
		return nil, Stats{}, err
	}
	defer c.Release()
	return c.Query(sql, format, params...)
}

// Param is a query parameter, bound by the engine to a {name:Type}
// placeholder. Values travel beside the SQL text, never inside it.
type Param struct {
	Name, Value string
}

// cparams lays params out as the C API wants them. The returned slices must
// stay alive until the call returns.
type cparams struct {
	names, values       []*byte
	nameLens, valueLens []uintptr
	bufs                [][]byte
}

func newCParams(params []Param) *cparams {
	cp := &cparams{}
	for _, p := range params {
		n := append([]byte(p.Name), 0)
		v := append([]byte(p.Value), 0)
		cp.bufs = append(cp.bufs, n, v)
		cp.names = append(cp.names, &n[0])
		cp.values = append(cp.values, &v[0])
		cp.nameLens = append(cp.nameLens, uintptr(len(p.Name)))
		cp.valueLens = append(cp.valueLens, uintptr(len(p.Value)))
	}
	return cp
}

// Conn is exclusive use of the engine, from Acquire to Release.
type Conn struct {
	e        *Engine
	released bool
	stream   *Stream
}

// Release gives the engine back. It cancels a stream left open.
func (c *Conn) Release() {
	if c.released {
		return
	}
	if c.stream != nil {
		c.stream.Close()
	}
	c.released = true
	<-c.e.sem
}

func cstr(s string) (*byte, uintptr) {
	if s == "" {
		return nil, 0
	}
	b := unsafe.StringData(s)
	return b, uintptr(len(s))
}

// Query runs sql and returns its whole result in the given output format.
func (c *Conn) Query(sql, format string, params ...Param) ([]byte, Stats, error) {
	if c.released {
		return nil, Stats{}, errors.New("chdb: query on a released conn")
	}
	if c.stream != nil {
		return nil, Stats{}, errors.New("chdb: a stream is open on this conn")
	}
	l := c.e.lib
	q, qn := cstr(sql)
	f, fn := cstr(format)
	var res unsafe.Pointer
	if len(params) == 0 {
		res = l.queryN(*c.e.conn, q, qn, f, fn)
	} else {
		cp := newCParams(params)
		res = l.queryParamsN(*c.e.conn, q, qn, f, fn, &cp.names[0], &cp.nameLens[0], &cp.values[0], &cp.valueLens[0], uintptr(len(params)))
		runtime.KeepAlive(cp)
	}
	runtime.KeepAlive(sql)
	runtime.KeepAlive(format)
	if res == nil {
		return nil, Stats{}, &Error{Message: "chdb: the engine returned no result"}
	}
	defer l.destroy(res)
	if msg := l.errText(res); msg != "" {
		return nil, Stats{}, newError(msg)
	}
	return copyBuffer(l, res), stats(l, res), nil
}

func copyBuffer(l *library, res unsafe.Pointer) []byte {
	n := l.length(res)
	if n == 0 {
		return nil
	}
	p := l.buffer(res)
	if p == nil {
		return nil
	}
	return append([]byte(nil), unsafe.Slice(p, n)...)
}

func stats(l *library, res unsafe.Pointer) Stats {
	return Stats{
		RowsRead:     l.rowsRead(res),
		BytesRead:    l.bytesRead(res),
		RowsWritten:  l.rowsWritten(res),
		BytesWritten: l.bytesWritten(res),
		Elapsed:      time.Duration(l.elapsed(res) * float64(time.Second)),
	}
}
