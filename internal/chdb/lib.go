package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"
)

// LibraryVersion is the libchdb version `make deps` fetches.
const LibraryVersion = "26.5.3"

// ErrLibraryMissing is returned when libchdb cannot be found.
var ErrLibraryMissing = errors.New("libchdb not found")

// library holds the C entry points. purego registers each as a Go function.
type library struct {
	path string

	// Handles are opaque C pointers. The connection functions take the
	// chdb_connection value (*conn), chdb_close_conn takes its address.
	connect   func(argc int32, argv **byte) *unsafe.Pointer                                          // chdb_connection *chdb_connect(int, char **)
	closeConn func(conn *unsafe.Pointer)                                                             // void chdb_close_conn(chdb_connection *)
	queryN    func(conn unsafe.Pointer, q *byte, qlen uintptr, f *byte, flen uintptr) unsafe.Pointer // chdb_result *chdb_query_n
	streamN   func(conn unsafe.Pointer, q *byte, qlen uintptr, f *byte, flen uintptr) unsafe.Pointer // chdb_result *chdb_stream_query_n
	// chdb_query_with_params_n / chdb_stream_query_with_params_n: the same,
	// with {name:Type} parameters bound by the engine, never pasted into SQL.
	queryParamsN  func(conn unsafe.Pointer, q *byte, qlen uintptr, f *byte, flen uintptr, names **byte, nameLens *uintptr, values **byte, valueLens *uintptr, n uintptr) unsafe.Pointer
	streamParamsN func(conn unsafe.Pointer, q *byte, qlen uintptr, f *byte, flen uintptr, names **byte, nameLens *uintptr, values **byte, valueLens *uintptr, n uintptr) unsafe.Pointer
	fetch         func(conn unsafe.Pointer, res unsafe.Pointer) unsafe.Pointer // chdb_result *chdb_stream_fetch_result
	cancel        func(conn unsafe.Pointer, res unsafe.Pointer)                // void chdb_stream_cancel_query
	destroy       func(res unsafe.Pointer)                                     // void chdb_destroy_query_result

	buffer       func(res unsafe.Pointer) *byte   // char *chdb_result_buffer
	length       func(res unsafe.Pointer) uintptr // size_t chdb_result_length
	errText      func(res unsafe.Pointer) string  // const char *chdb_result_error (NULL reads as "")
	elapsed      func(res unsafe.Pointer) float64
	rowsRead     func(res unsafe.Pointer) uint64
	bytesRead    func(res unsafe.Pointer) uint64
	rowsWritten  func(res unsafe.Pointer) uint64
	bytesWritten func(res unsafe.Pointer) uint64
}

var (
	loadOnce sync.Once
	loaded   *library
	loadErr  error
)

// loadLibrary dlopens libchdb once per process. A process can only hold one
// copy of the engine, so the first path wins and later calls share it.
//
// This is the package's one piece of process-wide state, and it mirrors the
// library's own: the engine itself is process-wide.
func loadLibrary(path string) (*library, error) {
	loadOnce.Do(func() {
		loaded, loadErr = openLibrary(path)
	})
	if loadErr != nil {
		return nil, loadErr
	}
	if path != "" && loaded.path != path {
		return nil, fmt.Errorf("libchdb already loaded from %s in this process; cannot also load %s", loaded.path, path)
	}
	return loaded, nil
}

// DefaultLibraryPath is where `make deps` puts libchdb: $TRAILWATCH_CHDB_LIB
// if set, else $TRAILWATCH_CACHE_DIR, $XDG_CACHE_HOME/trailwatch or
// ~/.cache/trailwatch, under chdb-<version>/libchdb.so.
func DefaultLibraryPath() string {
	if p := os.Getenv("TRAILWATCH_CHDB_LIB"); p != "" {
		return p
	}
	cache := os.Getenv("TRAILWATCH_CACHE_DIR")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				home = "."
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "trailwatch")
	}
	return filepath.Join(cache, "chdb-"+LibraryVersion, "libchdb.so")
}
