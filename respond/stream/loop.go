package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// DeadLetters takes the records that are not actions; *deadletter.Writer
// is one.
type DeadLetters interface {
	Write(ctx context.Context, rejects ...deadletter.Reject) error
}

// Options are what a Responder needs.
type Options struct {
	Loop     Config
	Respond  respond.Config
	Adapters respond.Adapters
	Kafka    kafka.Config
	// Recorder writes the executor's status records: NewRecorder over a
	// producer of Kafka's actions topic.
	Recorder    respond.Recorder
	DeadLetters DeadLetters
	Log         zerolog.Logger
	Registerer  prometheus.Registerer
	// Now is the executors' clock; nil: time.Now.
	Now func() time.Time
}

// Responder consumes the actions topic and acts on it.
type Responder struct {
	o        Options
	consumer *kafka.PartitionConsumer
	m        *metrics
	log      zerolog.Logger
}

// New checks the configuration (every problem at once) and returns a
// Responder; Run starts it.
func New(o Options) (*Responder, error) {
	var errs []error
	if err := o.Loop.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Respond.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Recorder == nil || o.DeadLetters == nil {
		errs = append(errs, errors.New("respond: a recorder and a dead-letter writer are required"))
	}
	if o.Kafka.Topics.Actions.Name == "" {
		errs = append(errs, errors.New("kafka.topics.actions.name: the responder consumes the actions topic, which is disabled"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// An executor is built per partition; building one now reports a
	// tenant naming an adapter that was not built before anything runs.
	if _, err := respond.New(o.Respond, o.Adapters, o.Recorder, respond.Options{Log: o.Log}); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Responder{o: o, m: m, log: o.Log.With().Str("component", "responder").Logger()}
	r.consumer, err = kafka.NewPartitionConsumer(o.Kafka, kafka.PartitionOptions{
		Group: o.Loop.Group, Topics: []string{o.Kafka.Topics.Actions.Name},
	}, kafka.PartitionHandlerFunc(r.consume), o.Log, o.Registerer)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Run consumes until ctx ends (nil) or a partition fails for good.
func (r *Responder) Run(ctx context.Context) error { return r.consumer.Run(ctx) }

// Ready reports nil while the responder is a member of its group.
func (r *Responder) Ready(ctx context.Context) error { return r.consumer.Ready(ctx) }

// claim is one assigned partition: its own executor (history and
// breakers of the tenants whose records it holds) and the position.
type claim struct {
	r        *Responder
	c        *kafka.Claim
	x        *respond.Executor
	log      zerolog.Logger
	next     int64 // offset after the last handled record
	handled  int   // records handled since the last commit
	lastSync time.Time
	awaiting int // this claim's share of the awaiting-approval gauge
}

// consume runs one partition assignment: catch up, resume, then live.
func (r *Responder) consume(ctx context.Context, c *kafka.Claim) error {
	x, err := respond.New(r.o.Respond, r.o.Adapters, r.o.Recorder, respond.Options{
		Log: r.o.Log, Registerer: r.o.Registerer, Now: r.o.Now,
	})
	if err != nil {
		return err
	}
	cl := &claim{r: r, c: c, x: x, lastSync: r.o.Now(),
		log: r.log.With().Str("topic", c.Topic()).Int("partition", c.Partition()).Logger()}
	defer cl.gauge(0)

	end := c.HighWatermark()
	if err := cl.catchUp(ctx, end); err != nil {
		return err
	}
	if err := cl.retry(ctx, "resuming unfinished actions", func() error { return x.Resume(ctx) }); err != nil {
		return err
	}
	cl.gauge(x.Awaiting())
	cl.next = end
	cl.commit()
	return cl.live(ctx)
}

// catchUp observes the partition from the look-back offset up to end, the
// high watermark at assignment. Records before the committed offset were
// handled by an earlier owner; those after it were not, and Resume acts on
// whatever of them is unfinished. Invalid records after the committed
// offset go to the dead-letter topic (those before it already went).
func (cl *claim) catchUp(ctx context.Context, end int64) error {
	from, err := cl.lookBack(ctx)
	if err != nil {
		return err
	}
	cl.log.Info().Int64("from", from).Int64("committed", cl.c.Committed()).Int64("end", end).Msg("rebuilding action history")
	if from >= end {
		// Nothing to read before end; live records start there (not at
		// the claim's default start, which may be the log start).
		return cl.c.SetOffset(end)
	}
	if err := cl.c.SetOffset(from); err != nil {
		return err
	}
	committed := cl.c.Committed()
	for {
		m, err := cl.c.Fetch(ctx)
		if err != nil {
			return err // only when ctx ends
		}
		cl.r.m.catchUp.Inc()
		rec, derr := decode(m)
		if derr == nil {
			derr = cl.x.Observe(rec)
		}
		if derr != nil && m.Offset >= committed {
			if err := cl.deadLetter(ctx, m, derr); err != nil {
				return err
			}
		}
		if m.Offset >= end-1 {
			return nil
		}
	}
}

// lookBack is where catch-up starts: the offset of the history horizon,
// but never after the committed offset (a record not yet handled is never
// skipped, however old).
func (cl *claim) lookBack(ctx context.Context) (int64, error) {
	c := cl.c
	from := c.Bounds().Start
	var at int64
	err := cl.retry(ctx, "finding the history horizon", func() error {
		var err error
		at, err = c.OffsetForTime(ctx, cl.r.o.Now().Add(-cl.r.o.Loop.History))
		return err
	})
	if err != nil {
		return 0, err
	}
	from = max(from, at)
	if committed := c.Committed(); committed != kafka.NoOffset && committed < from {
		cl.log.Warn().Int64("committed", committed).Int64("horizon", from).
			Msg("committed offset is older than the history horizon; reading from it, so no request is skipped")
		from = max(committed, c.Bounds().Start)
	}
	return from, nil
}

// live handles records as they arrive, commits in batches, and forgets
// finished actions now and then.
func (cl *claim) live(ctx context.Context) error {
	wake := cl.r.o.Loop.CommitInterval
	lastForget := cl.r.o.Now()
	for {
		fctx, cancel := context.WithTimeout(ctx, wake)
		m, err := cl.c.Fetch(fctx)
		cancel()
		if err != nil {
			cl.commit()
			if ctx.Err() != nil {
				return nil
			}
			// Woken up with nothing to read: timed work below.
		} else {
			if err := cl.handle(ctx, m); err != nil {
				cl.commit() // what was handled before m
				return nil  // ctx ended while m was being handled
			}
			cl.next = m.Offset + 1
			cl.handled++
			if cl.handled >= 100 || cl.r.o.Now().Sub(cl.lastSync) >= wake {
				cl.commit()
			}
		}
		if now := cl.r.o.Now(); now.Sub(lastForget) >= time.Minute {
			if n := cl.x.Forget(now.Add(-cl.r.o.Loop.ForgetAfter)); n > 0 {
				cl.log.Debug().Int("actions", n).Msg("forgot finished actions")
			}
			lastForget = now
		}
	}
}

// handle takes one live record: it hands an action to the executor, trying
// again until it succeeds (or ctx ends), and sends anything that is not an
// action to the dead-letter topic. It returns an error only when ctx ended.
func (cl *claim) handle(ctx context.Context, m kafka.Message) error {
	rec, err := decode(m)
	if err == nil {
		err = respond.CheckRecord(rec)
	}
	if err != nil {
		cl.r.m.records.WithLabelValues("invalid").Inc()
		return cl.deadLetter(ctx, m, err)
	}
	cl.r.m.records.WithLabelValues(statusLabel(rec.Status)).Inc()
	if string(m.Key) != rec.Tenant {
		cl.r.m.misrouted.Inc()
		cl.log.Warn().Str("action_id", rec.ID).Int64("offset", m.Offset).Msg("action record not keyed by its tenant")
	}
	err = cl.retry(ctx, "handling action "+rec.ID, func() error {
		err := cl.x.Handle(ctx, rec)
		if errors.Is(err, respond.ErrInvalidAction) {
			return cl.deadLetter(ctx, m, err)
		}
		return err
	})
	cl.gauge(cl.x.Awaiting())
	return err
}

// decode reads an action record; the error says what is wrong with it.
func decode(m kafka.Message) (alert.Action, error) {
	var a alert.Action
	if err := json.Unmarshal(m.Value, &a); err != nil {
		return alert.Action{}, fmt.Errorf("%w: not an action record: %w", respond.ErrInvalidAction, err)
	}
	return a, nil
}

func (cl *claim) deadLetter(ctx context.Context, m kafka.Message, why error) error {
	cl.log.Warn().Int64("offset", m.Offset).Err(why).Msg("invalid action record to the dead-letter topic")
	return cl.retry(ctx, "dead-lettering an invalid record", func() error {
		return cl.r.o.DeadLetters.Write(ctx, deadletter.Reject{
			Raw: m.Value, Key: m.Key, Reason: why.Error(),
			Origin: deadletter.FromKafka(m.Topic, m.Partition, m.Offset), ReceivedAt: cl.r.o.Now(),
		})
	})
}

// retry calls fn until it returns nil, waiting retry_backoff (doubling, up
// to 30s) between attempts; it gives up only when ctx ends.
func (cl *claim) retry(ctx context.Context, what string, fn func() error) error {
	wait := cl.r.o.Loop.RetryBackoff
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		cl.r.m.errors.Inc()
		cl.log.Warn().Err(err).Str("doing", what).Dur("retry_in", wait).Msg("failed; trying again")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", what, err)
		case <-t.C:
		}
		wait = min(2*wait, maxRetryBackoff)
	}
}

// commit commits the position after the last handled record. A failed
// commit is not fatal: the records after the last good one come again and
// are recognised by their ids.
func (cl *claim) commit() {
	cl.lastSync = cl.r.o.Now()
	if cl.handled == 0 && cl.next <= cl.c.Committed() {
		return
	}
	if err := cl.c.Commit(cl.next); err != nil {
		cl.log.Warn().Err(err).Int64("offset", cl.next).Msg("commit failed; later records will be seen again")
		return
	}
	cl.handled = 0
}

// gauge moves this claim's share of the awaiting-approval gauge to n.
func (cl *claim) gauge(n int) {
	cl.r.m.awaiting.Add(float64(n - cl.awaiting))
	cl.awaiting = n
}
