package respond_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// scriptedFreezer answers Freeze with the scripted errors, then succeeds,
// and notes when each call came (in the bubble's fake time).
type scriptedFreezer struct {
	mu     sync.Mutex
	errs   []error
	calls  []time.Time
	frozen bool
}

func (f *scriptedFreezer) Freeze(context.Context, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, time.Now())
	if len(f.calls) <= len(f.errs) {
		return f.errs[len(f.calls)-1]
	}
	f.frozen = true
	return nil
}
func (f *scriptedFreezer) Unfreeze(context.Context, string) error { return nil }
func (f *scriptedFreezer) Frozen(context.Context, string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frozen, nil
}

type notes struct {
	mu sync.Mutex
	n  []adapter.Notification
}

func (n *notes) Notify(_ context.Context, x adapter.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.n = append(n.n, x)
	return nil
}

func retryConfig() respond.Config {
	cfg := respond.DefaultConfig()
	sf := registry.Defaults(registry.KindSalesforce)
	sf.Salesforce.LoginURL, sf.Salesforce.ClientID, sf.Salesforce.ClientSecret.Env = "https://acme.my.salesforce.com", "k", "UNUSED"
	pd := registry.Defaults(registry.KindPagerDuty)
	pd.PagerDuty.RoutingKey.Env = "UNUSED"
	cfg.Adapters = registry.Config{"sf": sf, "pd": pd}
	cfg.Tenants = map[string]respond.Tenant{"acme": {Freeze: []string{"sf"}, OnCall: []string{"pd"}}}
	cfg.Rules = map[string]respond.Rule{"credential-stuffing": {Mode: alert.ModeEnforce}}
	cfg.Retry = respond.Retry{MaxAttempts: 4, BaseDelay: 2 * time.Second, MaxDelay: 30 * time.Second, MaxRetryAfter: time.Minute}
	return cfg
}

// With the clock injected (testing/synctest), the waits between attempts
// are exact: full jitter at 0.5, Retry-After as a floor.
func TestExecutorRetriesWithExactBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &scriptedFreezer{errs: []error{
			&adapter.Error{Vendor: "salesforce", Op: "freeze", Kind: adapter.KindRetryable, Status: 503},
			&adapter.Error{Vendor: "salesforce", Op: "freeze", Kind: adapter.KindRetryable, Status: 429, RetryAfter: 20 * time.Second},
		}}
		rec := &memRecorder{}
		x, err := respond.New(retryConfig(), respond.Adapters{Freezers: map[string]respond.Freezer{"sf": f}, Notifiers: map[string]respond.Notifier{"pd": &notes{}}},
			rec, respond.Options{Log: zerolog.Nop(), Rand: func() float64 { return 0.5 }})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := x.Handle(t.Context(), request(1)); err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{0, time.Second, 21 * time.Second}
		if len(f.calls) != 3 {
			t.Fatalf("%d calls", len(f.calls))
		}
		for i, c := range f.calls {
			if got := c.Sub(start); got != want[i] {
				t.Errorf("attempt %d at %v, want %v", i+1, got, want[i])
			}
		}
		recs := rec.records("act-001")
		if last := recs[len(recs)-1]; last.Status != alert.StatusDone || last.Attempt != 3 || last.CompletedAt.Sub(*recs[0].RecordedAt) != 21*time.Second {
			t.Fatalf("result %+v", last)
		}
	})
}

func TestExecutorGivesUpAndPages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		transient := &adapter.Error{Vendor: "salesforce", Op: "freeze", Kind: adapter.KindRetryable, Status: 503, Message: "Server Unavailable"}
		f := &scriptedFreezer{errs: []error{transient, transient, transient, transient, transient}}
		pages := &notes{}
		rec := &memRecorder{}
		x, err := respond.New(retryConfig(), respond.Adapters{Freezers: map[string]respond.Freezer{"sf": f}, Notifiers: map[string]respond.Notifier{"pd": pages}},
			rec, respond.Options{Log: zerolog.Nop(), Rand: func() float64 { return 0.5 }})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		x.Handle(t.Context(), request(2))
		// 4 attempts: waits 1s, 2s, 4s.
		if len(f.calls) != 4 || time.Since(start) != 7*time.Second {
			t.Fatalf("%d calls over %v", len(f.calls), time.Since(start))
		}
		recs := rec.records("act-002")
		last := recs[len(recs)-1]
		if last.Status != alert.StatusFailed || last.Attempt != 4 || !strings.Contains(last.Error, "sf: salesforce freeze: status 503: Server Unavailable") {
			t.Fatalf("result %+v", last)
		}
		if len(pages.n) != 1 || pages.n[0].Key != "alert-002" || pages.n[0].Details["status"] != alert.StatusFailed {
			t.Fatalf("pages %+v", pages.n)
		}
	})
}
