package respond

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Backoff computes the waits between attempts: exponential with full
// jitter (a uniform wait between zero and base·2^(n-1), capped), never
// shorter than what the vendor asked for, and giving up when the vendor
// asks for longer than MaxRetryAfter.
type Backoff struct {
	Retry Retry
	// Rand returns a uniform value in [0, 1); injected so tests are exact.
	Rand func() float64
}

// Delay is the wait before retry n (n ≥ 1, the second attempt is retry 1)
// after err. ok is false when the vendor's advised wait exceeds
// MaxRetryAfter: retrying sooner is pointless, later is too late.
func (b Backoff) Delay(n int, err error) (d time.Duration, ok bool) {
	ceiling := float64(b.Retry.BaseDelay) * math.Pow(2, float64(n-1))
	if ceiling > float64(b.Retry.MaxDelay) {
		ceiling = float64(b.Retry.MaxDelay)
	}
	d = time.Duration(b.Rand() * ceiling)
	if ra := adapter.RetryAfter(err); ra > 0 {
		if ra > b.Retry.MaxRetryAfter {
			return ra, false
		}
		if ra > d {
			d = ra
		}
	}
	return d, true
}

// attemptFunc is one vendor call.
type attemptFunc func(ctx context.Context) error

// observeFunc hears the outcome of every attempt (for metrics).
type observeFunc func(attempt int, took time.Duration, err error)

// retry calls fn until it succeeds, fails permanently, runs out of
// attempts, or the vendor asks for a wait beyond MaxRetryAfter. It returns
// the number of attempts made and the last error. Waits use real timers,
// so under testing/synctest they are exact.
func (b Backoff) retry(ctx context.Context, now func() time.Time, fn attemptFunc, observe observeFunc) (int, error) {
	var err error
	for n := 1; ; n++ {
		start := now()
		err = fn(ctx)
		if observe != nil {
			observe(n, now().Sub(start), err)
		}
		if err == nil || !adapter.IsRetryable(err) || n >= b.Retry.MaxAttempts {
			return n, err
		}
		d, ok := b.Delay(n, err)
		if !ok {
			return n, fmt.Errorf("%w (the vendor asked to wait %s, more than retry.max_retry_after %s)", err, d, b.Retry.MaxRetryAfter)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, fmt.Errorf("%w (gave up waiting to retry: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}
