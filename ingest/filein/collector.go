package filein

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/checkpoint"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/internal/deadletter"
)

// Config tunes the file collector.
type Config struct {
	BatchSize          int           `yaml:"batch_size" doc:"Records published to Kafka per batch; the position advances batch by batch."`
	PollInterval       time.Duration `yaml:"poll_interval" doc:"Following: how often files are checked for appended data and a directory for new files."`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval" doc:"Following: most time between checkpoint saves while records flow (the position is also saved when caught up and on stop); bounds what a crash sends again."`
	PublishTimeout     time.Duration `yaml:"publish_timeout" doc:"Time allowed to publish one batch, on stop included; following, a failed batch is retried until it is published."`
}

// DefaultConfig: batches of 1000, looking for new data every 250 ms.
func DefaultConfig() Config {
	return Config{BatchSize: 1000, PollInterval: 250 * time.Millisecond, CheckpointInterval: time.Second, PublishTimeout: 30 * time.Second}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("ingest.file.batch_size: must be at least 1, got %d", c.BatchSize))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("ingest.file.poll_interval: must be positive, got %s", c.PollInterval))
	}
	if c.CheckpointInterval < 0 {
		errs = append(errs, fmt.Errorf("ingest.file.checkpoint_interval: must not be negative, got %s", c.CheckpointInterval))
	}
	if c.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf("ingest.file.publish_timeout: must be positive, got %s", c.PublishTimeout))
	}
	return errors.Join(errs...)
}

// Options say what one run does.
type Options struct {
	// Follow keeps reading appended data and new files until the context
	// ends, remembering positions in Store.
	Follow bool
	// Store holds the checkpoints; required with Follow.
	Store *checkpoint.Store
	// OnReject is told of each refused record once its dead letter is
	// acknowledged (for a summary on standard error); file is the path
	// ("-" for standard input).
	OnReject func(file string, r ingest.Rejected)
}

// Summary counts what a run published.
type Summary struct {
	Files    int // inputs read
	Accepted int // events acknowledged by Kafka
	Rejected int // records sent to the dead-letter topic
}

// Collector reads files into Kafka through a Publisher.
type Collector struct {
	pub    *ingest.Publisher
	parser *ingest.Parser
	cfg    Config
	opts   Options
	log    zerolog.Logger
	now    func() time.Time
	sum    Summary
}

// New returns a collector publishing what parser makes of its input.
func New(pub *ingest.Publisher, parser *ingest.Parser, cfg Config, opts Options, log zerolog.Logger) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Follow && opts.Store == nil {
		return nil, errors.New("file collector: following needs a checkpoint store")
	}
	return &Collector{pub: pub, parser: parser, cfg: cfg, opts: opts, now: time.Now,
		log: log.With().Str("component", "ingest-file").Str("source", parser.Source()).Logger()}, nil
}

// Run reads path ("-" for standard input, a file, or a directory) and
// returns what it published. Without Follow it stops at the end of the
// input; with it, when ctx ends, after publishing the batch in hand and
// saving the position. A refused record never stops it; an input that
// cannot be read, or Kafka refusing a batch (without Follow), does.
func (c *Collector) Run(ctx context.Context, path string, stdin io.Reader) (Summary, error) {
	if path == "-" {
		if c.opts.Follow {
			return c.sum, errors.New("standard input cannot be followed from a checkpoint: give a file or directory")
		}
		c.sum.Files++
		err := c.drain(ctx, "-", stdin, position{}, nil, nil)
		return c.sum, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return c.sum, err
	}
	if c.opts.Follow {
		return c.sum, c.follow(ctx, path, fi.IsDir())
	}
	files := []string{path}
	if fi.IsDir() {
		if files, err = listDir(path); err != nil {
			return c.sum, err
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return c.sum, err
		}
		if err := c.readWhole(ctx, f); err != nil {
			return c.sum, err
		}
	}
	return c.sum, nil
}

func (c *Collector) readWhole(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	c.sum.Files++
	if err := c.drain(ctx, path, f, position{}, nil, nil); !errors.Is(err, errBadHeader) {
		return err
	}
	return nil
}

// listDir returns the regular files of dir in name order, hidden ones left
// out.
func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	slices.Sort(out)
	return out, nil
}

// drain reads r (at position at of file name) to its end, publishing a
// batch every BatchSize records and at the end, and calls done with the
// position after each published batch. header is a CSV file's header when
// at is past it. It returns ctx's error when ctx ends, after publishing the
// batch in hand.
func (c *Collector) drain(ctx context.Context, name string, r io.Reader, at position, header *record.Header, done func(position)) error {
	origin := deadletter.FromFile(c.parser.Source(), name, 0)
	b := c.pub.NewBatch(c.parser.Source(), origin)
	recs, _, err := openRecords(c.parser.Kind(), r, at, header)
	if err != nil {
		// A CSV file without a readable header: one reject for the file.
		b.Reject(nil, 1, 0, &record.LineError{Line: 1, Err: err})
		if err := c.publish(ctx, name, b); err != nil {
			return err
		}
		return errBadHeader
	}
	flush := func() error {
		if err := c.publish(ctx, name, b); err != nil {
			return err
		}
		if done != nil {
			done(recs.pos())
		}
		b.Reset()
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return err
		}
		rec, raw, line, err := recs.next()
		var le *record.LineError
		switch {
		case err == io.EOF:
			return flush()
		case errors.As(err, &le):
			b.Reject(raw, le.Line, b.Len(), le)
		case err != nil:
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("reading %s after line %d: %w", name, recs.pos().Line, err)
		default:
			b.Add(c.parser, rec, raw, c.now(), line, b.Len())
		}
		if b.Len() >= c.cfg.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// errBadHeader marks a CSV file whose header cannot be read: it was
// reported once, and is skipped.
var errBadHeader = errors.New("unreadable CSV header")

// publish makes b durable. Following, a failure is retried (with backoff)
// until it succeeds or ctx ends: the position must not pass records that
// are not in Kafka, and the collector must not stop on a Kafka outage.
// A batch in hand when ctx ends still gets PublishTimeout to go out.
func (c *Collector) publish(ctx context.Context, name string, b *ingest.Batch) error {
	backoff := 100 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.PublishTimeout)
		err := c.pub.Publish(pctx, b)
		cancel()
		if err == nil {
			break
		}
		if !c.opts.Follow || ctx.Err() != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		c.log.Warn().Err(err).Dur("retry_in", backoff).Msg("kafka did not acknowledge a batch; retrying")
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", name, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	c.sum.Accepted += b.Accepted()
	c.sum.Rejected += len(b.Rejected())
	if c.opts.OnReject != nil {
		for _, r := range b.Rejected() {
			c.opts.OnReject(name, r)
		}
	}
	return nil
}
