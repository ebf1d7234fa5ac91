package identity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// Watcher keeps a Resolver on the newest valid content of a directory
// file: it loads the file once, then checks it every reload interval and
// swaps in a new index when the file changed and is valid. An invalid new
// file is logged with every problem and counted; the index in force stays.
type Watcher struct {
	r       *Resolver
	path    string
	format  Format
	every   time.Duration
	log     zerolog.Logger
	reloads *prometheus.CounterVec
	people  prometheus.Gauge

	mu   sync.Mutex // serialises checks (Run's ticks and Reload)
	mod  time.Time
	size int64
}

// NewWatcher loads cfg.Directory into r and returns the watcher that keeps
// it current (Run). A file that cannot be read or is invalid at start is an
// error: there is no previous directory to keep.
func NewWatcher(cfg Config, r *Resolver, log zerolog.Logger, reg prometheus.Registerer) (*Watcher, error) {
	if cfg.Directory == "" {
		return nil, errors.New("identity.directory: required to watch a directory")
	}
	f, err := ParseFormat(cfg.Format)
	if err != nil {
		return nil, err
	}
	w := &Watcher{r: r, path: cfg.Directory, format: f, every: cfg.ReloadInterval,
		log: log.With().Str("component", "identity").Logger()}
	var err1, err2 error
	w.reloads, err1 = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_identity_reloads_total",
		Help: "Directory file loads by result: loaded (a new index is in force) or refused (invalid; the previous stays).",
	}, []string{"result"}))
	w.people, err2 = telemetry.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "trailwatch_identity_directory_people",
		Help: "People (and integrations) in the directory index in force.",
	}))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if _, err := w.check(true); err != nil {
		return nil, err
	}
	return w, nil
}

// Run checks the file every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := w.check(false); err != nil {
				w.log.Error().Err(err).Str("file", w.path).Msg("directory file refused; the previous directory stays in force")
			}
		}
	}
}

// Reload checks the file now (as Run does on each tick) and reports
// whether a new index came into force.
func (w *Watcher) Reload() (bool, error) { return w.check(false) }

// check loads the file if it changed since the last load (always when
// first).
func (w *Watcher) check(first bool) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fi, err := os.Stat(w.path)
	if err != nil {
		w.reloads.WithLabelValues("refused").Inc()
		return false, fmt.Errorf("directory file: %w", err)
	}
	if !first && fi.ModTime().Equal(w.mod) && fi.Size() == w.size {
		return false, nil
	}
	s, err := ParseFile(w.path, w.format)
	// Remember the file as seen even when refused: it is not read again
	// until it changes, and the error is logged once.
	w.mod, w.size = fi.ModTime(), fi.Size()
	if err != nil {
		w.reloads.WithLabelValues("refused").Inc()
		return false, err
	}
	x := NewIndex(s)
	if old := w.r.Index(); old != nil && old.Digest() == x.Digest() {
		return false, nil
	}
	w.r.Swap(x)
	w.reloads.WithLabelValues("loaded").Inc()
	w.people.Set(float64(x.People()))
	w.log.Info().Str("file", w.path).Int("people", x.People()).Int("accounts", x.Accounts()).
		Int("email_conflicts", len(s.Conflicts)).Str("digest", x.Digest()[:16]).Msg("directory loaded")
	return true, nil
}
