package filein

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
)

// fileID identifies a file beyond its path: a rotated file has a new one.
type fileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// fileState is one followed file's checkpoint.
type fileState struct {
	position
	ID fileID `json:"id"`
	// Broken marks a CSV file whose header cannot be read: reported once,
	// then skipped until the file is replaced.
	Broken bool `json:"broken,omitempty"`

	header *record.Header // a CSV file's header, read once
}

// state is the checkpoint of one followed path.
type state struct {
	Path   string                `json:"path"`
	Format string                `json:"format"`
	Source string                `json:"source"`
	Files  map[string]*fileState `json:"files"` // by path
}

// checkpointName names the checkpoint of following path with this
// collector's source and format: following the same path another way
// starts its own positions.
func (c *Collector) checkpointName(abs string) string {
	sum := sha256.Sum256([]byte(abs + "\x00" + c.parser.Format() + "\x00" + c.parser.Source()))
	return "file-" + hex.EncodeToString(sum[:8])
}

// follow reads path (a file, or every file of a directory) as it grows
// until ctx ends, saving positions in the checkpoint store.
func (c *Collector) follow(ctx context.Context, path string, isDir bool) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	name := c.checkpointName(abs)
	unlock, err := c.opts.Store.Lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	st := state{Path: abs, Format: c.parser.Format(), Source: c.parser.Source(), Files: map[string]*fileState{}}
	if _, err := c.opts.Store.Load(name, &st); err != nil {
		return err
	}
	c.log.Info().Str("path", abs).Str("checkpoint", filepath.Join(c.opts.Store.Dir(), name+".json")).Int("files_known", len(st.Files)).Msg("following")

	dirty, lastSave := false, time.Now()
	save := func(force bool) error {
		if !dirty || !force && time.Since(lastSave) < c.cfg.CheckpointInterval {
			return nil
		}
		if err := c.opts.Store.Save(name, &st); err != nil {
			return err
		}
		dirty, lastSave = false, time.Now()
		return nil
	}
	for {
		files := []string{abs}
		if isDir {
			if files, err = listDir(abs); err != nil {
				return errors.Join(err, save(true))
			}
		}
		progressed := false
		present := map[string]bool{}
		for _, f := range files {
			present[f] = true
			fs := st.Files[f]
			if fs == nil {
				fs = &fileState{}
				st.Files[f] = fs
				c.sum.Files++
			}
			n, err := c.followFile(ctx, f, fs, func() {
				dirty = true
				if err := save(false); err != nil {
					c.log.Error().Err(err).Msg("saving the checkpoint")
				}
			})
			progressed = progressed || n
			if err != nil {
				if ctx.Err() != nil {
					return save(true)
				}
				return errors.Join(err, save(true))
			}
		}
		for f := range st.Files {
			if !present[f] {
				delete(st.Files, f) // gone: nothing left to resume
				dirty = true
			}
		}
		if err := save(true); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if !progressed {
			select {
			case <-ctx.Done():
				return save(true)
			case <-time.After(c.cfg.PollInterval):
			}
		}
	}
}

// followFile reads the complete records f gained since fs, updating fs as
// batches are acknowledged (and calling moved each time). It reports
// whether it read anything.
func (c *Collector) followFile(ctx context.Context, path string, fs *fileState, moved func()) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // removed since listed
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	id, size := identity(fi), fi.Size()
	if fs.ID != id || size < fs.Offset {
		if fs.ID != (fileID{}) || fs.Offset > 0 {
			c.log.Info().Str("file", path).Int64("size", size).Int64("position", fs.Offset).Msg("file replaced or truncated: reading it from the start")
		}
		*fs = fileState{ID: id}
		moved()
	}
	if fs.Broken || size == fs.Offset {
		return false, nil
	}
	kind := c.parser.Kind()
	end, err := completeEnd(f, kind, fs.Offset, size)
	if err != nil || end == fs.Offset {
		return false, err
	}
	if kind == record.CSV && fs.Offset > 0 && fs.header == nil {
		if fs.header, err = readHeader(f); err != nil {
			return false, err
		}
	}
	start := fs.Offset
	err = c.drain(ctx, path, io.NewSectionReader(f, fs.Offset, end-fs.Offset), fs.position, fs.header, func(p position) {
		fs.position = p
		moved()
	})
	if errors.Is(err, errBadHeader) {
		fs.Broken = true
		moved()
		return true, nil
	}
	if kind == record.CSV && fs.header == nil && fs.Offset > 0 {
		fs.header, _ = readHeader(f)
	}
	return fs.Offset > start, err
}
