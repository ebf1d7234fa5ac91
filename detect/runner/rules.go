package runner

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/detect"
)

// ruleSource is where the rules come from: the rules directory and the
// engine configuration file.
type ruleSource struct {
	dir, config string
	local       []string
}

// load reads and compiles the rules and configuration and splits them into
// streams. Every error names the file and line (detect.LoadErrors).
func (s ruleSource) load() (*Set, error) {
	rs, err := detect.Load(s.dir)
	if err != nil {
		return nil, fmt.Errorf("loading rules from %s:\n%w", s.dir, err)
	}
	cfg := detect.DefaultConfig()
	if s.config != "" {
		if cfg, err = detect.LoadConfig(s.config); err != nil {
			return nil, fmt.Errorf("loading the detector configuration: %w", err)
		}
	}
	set, err := buildSet(rs, cfg, s.local)
	if err != nil {
		return nil, fmt.Errorf("compiling rules from %s: %w", s.dir, err)
	}
	return set, nil
}

// stamp summarises the names, sizes and modification times of the files
// the rules come from: a change of stamp is a reason to reload. Errors are
// part of the stamp (a directory that vanishes is a change too).
func (s ruleSource) stamp() string {
	h := fnv.New64a()
	add := func(path string, fi fs.FileInfo) {
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", path, fi.Size(), fi.ModTime().UnixNano())
	}
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(h, "error %s\x00", err)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			add(path, fi)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(h, "error %s\x00", err)
	}
	if s.config != "" {
		if fi, err := os.Stat(s.config); err == nil {
			add(s.config, fi)
		} else {
			fmt.Fprintf(h, "error %s\x00", err)
		}
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// watch reloads the rules when their files change, polled every
// ReloadInterval, until ctx ends.
func (r *Runner) watch(ctx context.Context) {
	if r.cfg.ReloadInterval <= 0 {
		return
	}
	t := time.NewTicker(r.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.reloadMu.Lock()
		if stamp := r.src.stamp(); stamp != r.stamp {
			r.stamp = stamp
			_ = r.reload("files changed")
		}
		r.reloadMu.Unlock()
	}
}

// Reload loads the rules now (SIGHUP): if they load, every partition moves
// to them at its next message; if not, the running rules stay, and the
// error (every problem, with file and line) is logged, counted and
// returned.
func (r *Runner) Reload() error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	r.stamp = r.src.stamp()
	return r.reload("requested")
}

func (r *Runner) reload(why string) error {
	set, err := r.src.load()
	if err != nil {
		r.m.reloads.WithLabelValues("error").Inc()
		r.m.reloadOK.Set(0)
		r.log.Error().Err(err).Str("reason", why).Str("running", r.set.Load().Version).
			Msg("rules failed to load; the previous rules keep running")
		return err
	}
	r.m.reloadOK.Set(1)
	old := r.set.Load()
	if set.Version == old.Version {
		r.m.reloads.WithLabelValues("unchanged").Inc()
		r.log.Debug().Str("version", set.Version).Msg("rules reloaded: no change")
		return nil
	}
	r.set.Store(set)
	r.m.reloads.WithLabelValues("ok").Inc()
	r.m.setVersion(old, set)
	r.log.Info().Str("version", set.Version).Str("previous", old.Version).Int("rules", len(set.Full.Rules())).
		Strs("streams", set.streamNames()).Str("reason", why).Msg("rules reloaded; partitions switch at their next message")
	return nil
}
