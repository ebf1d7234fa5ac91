package chserver

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// runInsert streams an INSERT's data to the engine through a named pipe:
// `INSERT INTO t … FROM INFILE '<pipe>' COMPRESSION 'gzip' FORMAT X`. Data is
// never pasted into the query text, where the engine silently truncates
// binary data (shared/DESIGN.md, facts).
//
// The data goes through the pipe gzip-framed (stored blocks, so no real
// compression work) for one reason: if the request body ends early (the
// client died, a proxy cut it), the writer closes the pipe without the
// gzip trailer and the engine fails the insert with a decompression error,
// instead of committing the truncated data as a complete CSV or
// JSONEachRow insert. A body that is gzip already (Content-Encoding: gzip)
// is passed through as it is.
func (s *Server) runInsert(ctx context.Context, conn *chdb.Conn, req *request) (chdb.Stats, error) {
	ins := req.stmt.Insert
	if req.user.role == RoleWriter {
		if err := s.guardInsert(conn, req); err != nil {
			return chdb.Stats{}, err
		}
	}
	path := s.fifoPath(req.queryID)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return chdb.Stats{}, fmt.Errorf("making an insert pipe: %w", err)
	}
	defer os.Remove(path)

	sets := append([]setting(nil), req.settings...)
	text := ins.Target + " FROM INFILE " + quoteString(path) + " COMPRESSION 'gzip'"
	clause := settingsClause(sets)
	if ins.Settings != "" {
		if clause != "" {
			clause += ", "
		}
		clause += ins.Settings
	}
	if clause != "" {
		text += " SETTINGS " + clause
	}
	text += " FORMAT " + ins.Format

	// The writer copies the body into the pipe while the engine reads it.
	werr := make(chan error, 1)
	go func() { werr <- writePipe(path, req) }()

	_, stats, err := conn.Query(text, "", req.params...)

	// If the engine failed before opening the pipe, the writer is still
	// blocked opening it (or has not got there yet): open the read end
	// ourselves until it finishes.
	writeErr := awaitWriter(path, werr)
	if err != nil {
		if bodyErr := req.bodyErr(); bodyErr != nil {
			return stats, s.codes.raise("CANNOT_READ_ALL_DATA", "Cannot read all data of the request body: %v (the engine said: %v)", bodyErr, err)
		}
		return stats, err
	}
	if writeErr != nil && !errors.Is(writeErr, syscall.EPIPE) {
		// The engine succeeded but did not take everything we had: never
		// report success for data it did not read.
		return stats, s.codes.raise("CANNOT_READ_ALL_DATA", "The engine stopped reading the insert data early: %v", writeErr)
	}
	return stats, nil
}

// writePipe copies the request's data into the pipe. It ends the gzip
// stream properly only when the data was read to its end.
func writePipe(path string, req *request) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if req.gzipBody != nil {
		_, err := io.Copy(f, req.gzipBody)
		if err == nil {
			err = req.bodyErr()
		}
		return err
	}
	gz, _ := gzip.NewWriterLevel(f, gzip.NoCompression)
	if _, err := io.Copy(gz, req.data); err != nil {
		return err // no trailer: the engine sees a truncated stream
	}
	if err := req.bodyErr(); err != nil {
		return err
	}
	return gz.Close()
}

// awaitWriter waits for the pipe's writer. While it waits it keeps opening
// and closing the read end without blocking, so a writer stuck in open()
// gets through, and its next write fails with EPIPE.
func awaitWriter(path string, werr <-chan error) error {
	for {
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		select {
		case e := <-werr:
			if err == nil {
				f.Close()
			}
			return e
		case <-time.After(2 * time.Millisecond):
		}
		if err == nil {
			f.Close()
		}
	}
}
