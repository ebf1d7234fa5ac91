package respond

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

func TestBackoffDelay(t *testing.T) {
	r := Retry{MaxAttempts: 6, BaseDelay: time.Second, MaxDelay: 10 * time.Second, MaxRetryAfter: time.Minute}
	half := Backoff{Retry: r, Rand: func() float64 { return 0.5 }}
	top := Backoff{Retry: r, Rand: func() float64 { return 0.999999999 }}
	transient := &adapter.Error{Kind: adapter.KindRetryable}
	for n, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 4: 4 * time.Second, 5: 5 * time.Second, 9: 5 * time.Second} {
		if d, ok := half.Delay(n, transient); d != want || !ok {
			t.Errorf("retry %d: %v %v, want %v", n, d, ok, want)
		}
	}
	if d, _ := top.Delay(10, transient); d > 10*time.Second || d < 9*time.Second {
		t.Errorf("cap: %v", d)
	}
	// Retry-After is a floor, never shortened by jitter…
	if d, ok := half.Delay(1, &adapter.Error{Kind: adapter.KindRetryable, RetryAfter: 30 * time.Second}); d != 30*time.Second || !ok {
		t.Errorf("Retry-After 30s: %v %v", d, ok)
	}
	// …and beyond max_retry_after the call gives up.
	if d, ok := half.Delay(1, &adapter.Error{Kind: adapter.KindRetryable, RetryAfter: 2 * time.Minute}); ok || d != 2*time.Minute {
		t.Errorf("Retry-After 2m: %v %v, want give up", d, ok)
	}
}

// flaky fails with errs in order, then succeeds.
type flaky struct {
	errs  []error
	calls []time.Time
}

func (f *flaky) call(context.Context) error {
	f.calls = append(f.calls, time.Now())
	if len(f.calls) <= len(f.errs) {
		return f.errs[len(f.calls)-1]
	}
	return nil
}

func TestRetryWaitsExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{Retry: Retry{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: time.Minute, MaxRetryAfter: time.Minute},
			Rand: func() float64 { return 0.5 }}
		rl := &adapter.Error{Kind: adapter.KindRetryable, Status: 429, RetryAfter: 7 * time.Second}
		srv := &adapter.Error{Kind: adapter.KindRetryable, Status: 503}
		f := &flaky{errs: []error{srv, rl, srv}}
		start := time.Now()
		n, err := b.retry(t.Context(), time.Now, f.call, nil)
		if err != nil || n != 4 {
			t.Fatalf("retry = %d, %v", n, err)
		}
		// Waits: 0.5·1s, then Retry-After 7s (over the 1s jitter), then 0.5·4s.
		want := []time.Duration{0, 500 * time.Millisecond, 7500 * time.Millisecond, 9500 * time.Millisecond}
		for i, c := range f.calls {
			if got := c.Sub(start); got != want[i] {
				t.Errorf("attempt %d at %v, want %v", i+1, got, want[i])
			}
		}
	})
}

func TestRetryStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{Retry: Retry{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Minute, MaxRetryAfter: time.Minute},
			Rand: func() float64 { return 1 }}
		srv := &adapter.Error{Vendor: "sf", Kind: adapter.KindRetryable, Status: 503, Message: "Server Unavailable"}

		f := &flaky{errs: []error{srv, srv, srv, srv}}
		n, err := b.retry(t.Context(), time.Now, f.call, nil)
		if n != 3 || !errors.Is(err, srv) {
			t.Fatalf("bounded attempts: %d, %v", n, err)
		}

		perm := &adapter.Error{Vendor: "sf", Kind: adapter.KindNotFound, Status: 404}
		f = &flaky{errs: []error{perm}}
		if n, err = b.retry(t.Context(), time.Now, f.call, nil); n != 1 || !errors.Is(err, perm) {
			t.Fatalf("permanent error retried: %d, %v", n, err)
		}

		long := &adapter.Error{Vendor: "okta", Kind: adapter.KindRetryable, Status: 429, RetryAfter: time.Hour}
		f = &flaky{errs: []error{long}}
		n, err = b.retry(t.Context(), time.Now, f.call, nil)
		if n != 1 || !strings.Contains(err.Error(), "more than retry.max_retry_after 1m0s") || !errors.Is(err, long) {
			t.Fatalf("long Retry-After: %d, %v", n, err)
		}

		ctx, cancel := context.WithCancel(t.Context())
		f = &flaky{errs: []error{srv, srv}}
		go func() {
			time.Sleep(500 * time.Millisecond)
			cancel()
		}()
		n, err = b.retry(ctx, time.Now, f.call, nil)
		if n != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, srv) {
			t.Fatalf("cancelled wait: %d, %v", n, err)
		}
	})
}
