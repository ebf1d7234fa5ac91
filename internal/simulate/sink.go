package simulate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Sink takes batches of encoded events (one canonical JSON object per
// element, without a newline), in order. A file, standard output and the
// ingest HTTP endpoint are sinks; a Kafka producer could be one.
type Sink interface {
	Write(ctx context.Context, batch [][]byte) error
	Close(ctx context.Context) error
}

// WriterSink writes NDJSON to an io.Writer.
type WriterSink struct {
	w *bufio.Writer
	c io.Closer
}

// NewWriterSink writes to w; Close flushes, and closes w if it is an
// io.Closer and close is set.
func NewWriterSink(w io.Writer, close bool) *WriterSink {
	s := &WriterSink{w: bufio.NewWriterSize(w, 1<<20)}
	if c, ok := w.(io.Closer); ok && close {
		s.c = c
	}
	return s
}

// Write appends the batch as lines.
func (s *WriterSink) Write(_ context.Context, batch [][]byte) error {
	for _, b := range batch {
		s.w.Write(b)
		if err := s.w.WriteByte('\n'); err != nil {
			return fmt.Errorf("writing events: %w", err)
		}
	}
	return nil
}

// Close flushes (and closes).
func (s *WriterSink) Close(context.Context) error {
	err := s.w.Flush()
	if s.c != nil {
		if cerr := s.c.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("writing events: %w", err)
	}
	return nil
}

// Publisher batches encoded events into a sink, at the pace of a Pacer.
type Publisher struct {
	sink  Sink
	pace  *Pacer
	batch int
	buf   [][]byte
	// arena holds the encoded bytes of the current batch.
	arena []byte
	sent  int
}

// NewPublisher sends to sink in batches of at most batch events (1000 when
// zero or less), paced by pace (nil: as fast as the sink takes them).
func NewPublisher(sink Sink, pace *Pacer, batch int) *Publisher {
	if batch <= 0 {
		batch = 1000
	}
	if pace != nil && pace.Rate > 0 {
		// small enough batches that a slow rate is smooth, not bursty
		batch = max(1, min(batch, int(pace.Rate/5)))
	}
	return &Publisher{sink: sink, pace: pace, batch: batch}
}

// Emit adds an event. In live pacing it first waits until the event's
// time has come, sending what is pending before it waits.
func (p *Publisher) Emit(ctx context.Context, e *event.Event) error {
	if p.pace != nil && p.pace.Live {
		if wait := p.pace.until(e.Timestamp); wait > 0 {
			if err := p.Flush(ctx); err != nil {
				return err
			}
			if err := p.pace.sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
	start := len(p.arena)
	p.arena = event.AppendJSON(p.arena, e)
	p.buf = append(p.buf, p.arena[start:len(p.arena):len(p.arena)])
	if len(p.buf) >= p.batch {
		return p.Flush(ctx)
	}
	return nil
}

// Flush sends what is pending.
func (p *Publisher) Flush(ctx context.Context) error {
	if len(p.buf) == 0 {
		return nil
	}
	if p.pace != nil {
		if err := p.pace.take(ctx, len(p.buf)); err != nil {
			return err
		}
	}
	if err := p.sink.Write(ctx, p.buf); err != nil {
		return err
	}
	p.sent += len(p.buf)
	p.buf = p.buf[:0]
	p.arena = p.arena[:0]
	return nil
}

// Close flushes and closes the sink.
func (p *Publisher) Close(ctx context.Context) error {
	if err := p.Flush(ctx); err != nil {
		p.sink.Close(ctx)
		return err
	}
	return p.sink.Close(ctx)
}

// Sent is the number of events the sink accepted.
func (p *Publisher) Sent() int { return p.sent }

// Pacer paces publishing: at most Rate events per second (0: no limit),
// and with Live, no event before its own time on the wall clock. Rate
// compresses simulated time (a simulated day of 60,000 events at 1,000
// events/s takes a minute) while the events keep their realistic
// timestamps.
type Pacer struct {
	Rate float64
	Live bool
	// Now and Sleep default to the wall clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	began time.Time
	taken float64
}

func (p *Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// until is how long until ts on the wall clock.
func (p *Pacer) until(ts time.Time) time.Duration { return ts.Sub(p.now()) }

// take waits until n more events fit the rate.
func (p *Pacer) take(ctx context.Context, n int) error {
	if p.Rate <= 0 {
		return nil
	}
	now := p.now()
	if p.began.IsZero() {
		p.began = now
	}
	p.taken += float64(n)
	due := p.began.Add(time.Duration((p.taken - float64(n)) / p.Rate * float64(time.Second)))
	if wait := due.Sub(now); wait > 0 {
		return p.sleep(ctx, wait)
	}
	if now.Sub(due) > 2*time.Second {
		// fell behind (a slow sink): do not burst to catch up
		p.began, p.taken = now, float64(n)
	}
	return nil
}
