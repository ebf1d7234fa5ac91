package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/trailwatch/trailwatch/internal/flock"
)

// Store is a directory of named checkpoints. It is safe for concurrent use
// on distinct names.
type Store struct {
	dir string
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// Open returns the store in dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("checkpoint directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("checkpoint name %q: want letters, digits, '.', '-', '_'", name)
	}
	return filepath.Join(s.dir, name+".json"), nil
}

// Load reads checkpoint name into v. It returns false, with v untouched,
// when there is none yet.
func (s *Store) Load(name string, v any) (bool, error) {
	p, err := s.path(name)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading checkpoint: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("checkpoint %s is corrupt (delete it to start over, or fix it): %w", p, err)
	}
	return true, nil
}

// Save replaces checkpoint name with v, atomically and durably.
func (s *Store) Save(name string, v any) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding checkpoint %s: %w", name, err)
	}
	f, err := os.CreateTemp(s.dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(b, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("saving checkpoint %s: %w", name, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("saving checkpoint %s: %w", name, err)
	}
	return syncDir(s.dir)
}

// Lock takes the exclusive lock of checkpoint name for this process, so no
// other process advances it meanwhile. It fails at once when another
// process holds it.
func (s *Store) Lock(name string) (unlock func(), err error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	unlock, err = flock.Lock(p + ".lock")
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return unlock, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing checkpoint directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing checkpoint directory: %w", err)
	}
	return nil
}
