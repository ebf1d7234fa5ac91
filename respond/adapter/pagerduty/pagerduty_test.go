package pagerduty_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/pagerduty"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

const key = "R0UT1NGK3Y0000000000000000000000"

func newClient(t *testing.T, f *fakes.PagerDuty, routingKey string, timeout time.Duration) *pagerduty.Client {
	t.Helper()
	t.Setenv("TW_TEST_PD_KEY", routingKey)
	cfg := pagerduty.DefaultConfig()
	cfg.EventsURL = f.EventsURL()
	cfg.RoutingKey = adapter.Secret{Env: "TW_TEST_PD_KEY"}
	cfg.Timeout = timeout
	c, err := pagerduty.New(cfg, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOneAlertPerDedupKey(t *testing.T) {
	f := fakes.NewPagerDuty(t, key)
	c := newClient(t, f, key, 2*time.Second)
	n := adapter.Notification{Key: "alert-7", Severity: "high", Title: "Account frozen", Summary: "jdoe failed 12 logins from RU, BR, NG in 6 min",
		Tenant: "acme", Target: "005xx", ActionID: "act-7", Details: map[string]string{"rule": "credential-stuffing"}, Time: time.Unix(1_800_000_000, 0)}
	for range 3 { // re-sent after restarts
		if err := c.Notify(t.Context(), n); err != nil {
			t.Fatalf("Notify: %v", err)
		}
	}
	if f.Alerts("alert-7") != 1 || f.Triggers("alert-7") != 3 {
		t.Fatalf("alerts %d triggers %d; want one alert", f.Alerts("alert-7"), f.Triggers("alert-7"))
	}
	ev := f.Events()[0]
	if ev.Payload.Severity != "error" || ev.Payload.Source != "trailwatch" || ev.Payload.Group != "acme" ||
		ev.Payload.Class != "credential-stuffing" || !strings.HasPrefix(ev.Payload.Summary, "Account frozen: jdoe") ||
		ev.Payload.CustomDetails["action_id"] != "act-7" || ev.Payload.Timestamp != "2027-01-15T08:00:00Z" {
		t.Fatalf("event %+v", *ev.Payload)
	}
	n.Event = adapter.EventResolve
	if err := c.Notify(t.Context(), n); err != nil || f.Open("alert-7") {
		t.Fatalf("resolve: %v, open %v", err, f.Open("alert-7"))
	}
}

func TestLongSummaryIsClipped(t *testing.T) {
	f := fakes.NewPagerDuty(t, key)
	c := newClient(t, f, key, 2*time.Second)
	err := c.Notify(t.Context(), adapter.Notification{Key: "k", Title: "t", Summary: strings.Repeat("ü", 1000)})
	if err != nil {
		t.Fatalf("a 2 KB summary was not clipped to PagerDuty's 1024: %v", err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		n     adapter.Notification
		fault *fakes.Fault
		kind  adapter.Kind
		text  string
	}{
		{name: "wrong routing key", key: "nope", n: adapter.Notification{Key: "a", Title: "t"}, kind: adapter.KindInvalid, text: "'routing_key' is invalid"},
		{name: "no dedup key", n: adapter.Notification{Title: "t"}, kind: adapter.KindInvalid, text: "dedup key"},
		{name: "throttled", n: adapter.Notification{Key: "a", Title: "t"}, fault: ptr(fakes.PagerDutyRateLimited()), kind: adapter.KindRetryable, text: "retry later"},
		{name: "server error", n: adapter.Notification{Key: "a", Title: "t"}, fault: &fakes.Fault{Status: 500}, kind: adapter.KindRetryable, text: "500"},
		{name: "timeout", n: adapter.Notification{Key: "a", Title: "t"}, fault: &fakes.Fault{Hang: true}, kind: adapter.KindRetryable, text: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakes.NewPagerDuty(t, key)
			k := tt.key
			if k == "" {
				k = key
			}
			c := newClient(t, f, k, 200*time.Millisecond)
			if tt.fault != nil {
				f.Fail(1, *tt.fault)
			}
			err := c.Notify(t.Context(), tt.n)
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want kind %v containing %q", err, tt.kind, tt.text)
			}
			if len(f.Events()) != 0 {
				t.Fatal("a failed event was recorded as accepted")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
