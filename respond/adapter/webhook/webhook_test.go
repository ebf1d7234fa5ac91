package webhook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/webhook"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

func newClient(t *testing.T, f *fakes.WebhookReceiver, secret string, timeout time.Duration) *webhook.Client {
	t.Helper()
	t.Setenv("TW_TEST_WEBHOOK_SECRET", secret)
	cfg := webhook.DefaultConfig()
	cfg.URL = f.URL() + "/trailwatch"
	cfg.Secret = adapter.Secret{Env: "TW_TEST_WEBHOOK_SECRET"}
	cfg.Timeout = timeout
	c, err := webhook.New(cfg, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFreezeStatusNotify(t *testing.T) {
	f := fakes.NewWebhookReceiver(t, "shared")
	c := newClient(t, f, "shared", 2*time.Second)
	ctx := adapter.WithActionID(t.Context(), "act-1")

	if err := c.Freeze(ctx, "u-42"); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if frozen, err := c.Frozen(ctx, "u-42"); err != nil || !frozen {
		t.Fatalf("Frozen = %v, %v", frozen, err)
	}
	if err := c.Unfreeze(ctx, "u-42"); err != nil || f.Frozen("u-42") {
		t.Fatalf("Unfreeze: %v", err)
	}
	err := c.Notify(t.Context(), adapter.Notification{Key: "alert-1", Title: "Account frozen", Severity: "high", ActionID: "act-2"})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	d := f.Deliveries()
	if len(d) != 3 || d[0].ID != "act-1:freeze" || d[0].Payload.Account != "u-42" || d[2].Payload.Notification.Key != "alert-1" || d[2].ID != "act-2:notify" {
		t.Fatalf("deliveries %+v", d)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		fault  *fakes.Fault
		known  bool
		kind   adapter.Kind
		text   string
		wait   time.Duration
	}{
		{name: "receiver rejects the signature", secret: "wrong", kind: adapter.KindAuth, text: "signature does not match"},
		{name: "unknown account", known: true, kind: adapter.KindNotFound, text: "unknown account"},
		{name: "rate limited", fault: &fakes.Fault{Status: 429, Header: http.Header{"Retry-After": {"4"}}}, kind: adapter.KindRetryable, text: "429", wait: 4 * time.Second},
		{name: "server error", fault: &fakes.Fault{Status: 502, Body: "bad gateway"}, kind: adapter.KindRetryable, text: "bad gateway"},
		{name: "timeout", fault: &fakes.Fault{Hang: true}, kind: adapter.KindRetryable, text: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakes.NewWebhookReceiver(t, "shared")
			if tt.known {
				f.Known("someone-else")
			}
			secret := tt.secret
			if secret == "" {
				secret = "shared"
			}
			c := newClient(t, f, secret, 200*time.Millisecond)
			if tt.fault != nil {
				f.Fail(1, *tt.fault)
			}
			err := c.Freeze(t.Context(), "u-42")
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) || ve.RetryAfter != tt.wait {
				t.Fatalf("err = %v; want kind %v containing %q, wait %v", err, tt.kind, tt.text, tt.wait)
			}
			if f.Frozen("u-42") {
				t.Fatal("a failed request froze the account")
			}
		})
	}
}
