// Package chdb loads libchdb, the ClickHouse engine as a shared library, at
// run time with purego (no cgo) and runs statements on it. It is the only
// package that calls the engine's C API; everything else reaches ClickHouse
// over HTTP through the embedded server (internal/chserver) or a real one.
//
// The engine allows one connection per process and runs one statement at a
// time: an Engine serialises every call, and a data directory is locked so
// that a second process gets a clear error instead of a second connection.
package chdb
