package runner

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// producer is what the runner needs from Kafka's producer; *kafka.Producer
// is one.
type producer interface {
	Produce(ctx context.Context, msgs ...kafka.Message) error
}

// emitter delivers one partition's outputs (alerts, actions, re-keyed
// copies) in order and tracks how far they are acknowledged, so the
// partition commits only offsets whose outputs Kafka has.
//
// The processing loop hands in each message's outputs with the offset after
// it (add); one goroutine (run) takes whatever accumulated while the
// previous produce call was in flight and produces it as one call. Batches
// therefore grow with Kafka's acknowledgement time and shrink to one
// message when idle: low latency at low rates, large requests at high
// ones. At most one call is in flight, and a failed call is retried before
// anything after it is sent, so outputs reach Kafka in offset order.
type emitter struct {
	p     producer
	log   zerolog.Logger
	m     *metrics
	limit int // outputs pending before add blocks
	kick  chan struct{}
	acked atomic.Int64 // every output of the messages before this offset is acknowledged

	mu       sync.Mutex
	taken    *sync.Cond // signalled when run takes the pending batch
	pending  []kafka.Message
	spare    []kafka.Message
	through  int64 // offset after the last message handed in
	inflight bool
	stopped  bool
}

func newEmitter(p producer, start int64, limit int, m *metrics, log zerolog.Logger) *emitter {
	e := &emitter{p: p, log: log, m: m, limit: limit, kick: make(chan struct{}, 1), through: start}
	e.taken = sync.NewCond(&e.mu)
	e.acked.Store(start)
	return e
}

// add queues the outputs of the message before through. While limit
// outputs are waiting (Kafka is slow) it waits for room, until ctx ends;
// then it queues them anyway. The state already holds the message, so its
// outputs are never dropped: the flush at revocation delivers them, or the
// partition's state is not kept. add fails only once the emitter stopped.
func (e *emitter) add(ctx context.Context, msgs []kafka.Message, through int64) error {
	e.mu.Lock()
	if len(e.pending) >= e.limit && !e.stopped && ctx.Err() == nil {
		// taken.Wait cannot watch ctx: wake it when ctx ends.
		stop := context.AfterFunc(ctx, func() {
			e.mu.Lock()
			e.taken.Broadcast()
			e.mu.Unlock()
		})
		for len(e.pending) >= e.limit && !e.stopped && ctx.Err() == nil {
			e.taken.Wait()
		}
		e.mu.Unlock()
		stop()
		e.mu.Lock()
	}
	if e.stopped {
		e.mu.Unlock()
		return errEmitterStopped
	}
	e.pending = append(e.pending, msgs...)
	e.through = through
	idle := !e.inflight && len(e.pending) == 0
	if idle {
		// Nothing is pending or in flight: the message's (absent)
		// outputs are acknowledged by definition.
		e.acked.Store(through)
	}
	e.mu.Unlock()
	if !idle {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

var errEmitterStopped = errors.New("emitter stopped")

// run produces pending outputs until ctx ends.
func (e *emitter) run(ctx context.Context) {
	defer func() {
		e.mu.Lock()
		e.stopped = true
		e.taken.Broadcast()
		e.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
		}
		e.mu.Lock()
		for len(e.pending) > 0 {
			batch, through := e.pending, e.through
			e.pending, e.spare = e.spare[:0], nil
			e.inflight = true
			e.taken.Broadcast()
			e.mu.Unlock()
			if !e.produce(ctx, batch) {
				return
			}
			clear(batch)
			e.mu.Lock()
			e.spare = batch[:0]
			e.acked.Store(through)
		}
		e.inflight = false
		e.acked.Store(e.through)
		e.mu.Unlock()
	}
}

// produce delivers batch, retrying what failed until it is delivered or
// ctx ends (false). Messages a partial failure did deliver are not sent
// again.
func (e *emitter) produce(ctx context.Context, batch []kafka.Message) bool {
	wait := 100 * time.Millisecond
	for {
		err := e.p.Produce(ctx, batch...)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(batch) {
			var rest []kafka.Message
			for i, werr := range werrs {
				if werr != nil {
					rest = append(rest, batch[i])
				}
			}
			batch = rest
		}
		e.m.retries.Inc()
		e.log.Warn().Err(err).Int("messages", len(batch)).Dur("retry_in", wait).Msg("producing outputs failed; retrying before anything after them")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// flushed waits until everything handed in is acknowledged, or ctx ends
// (false).
func (e *emitter) flushed(ctx context.Context) bool {
	return e.ackedThrough(ctx, func() int64 {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.through
	}())
}

// ackedThrough waits until the outputs of the messages before offset are
// acknowledged, or ctx ends (false).
func (e *emitter) ackedThrough(ctx context.Context, offset int64) bool {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for e.acked.Load() < offset {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}
