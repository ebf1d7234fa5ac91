package dynamics_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/dynamics"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

const user = "00000000-0000-0000-0000-0000000000a1"

func newClient(t *testing.T, f *fakes.Dataverse, secret string, timeout time.Duration) *dynamics.Client {
	t.Helper()
	t.Setenv("TW_TEST_DV_SECRET", secret)
	cfg := dynamics.DefaultConfig()
	cfg.EnvironmentURL, cfg.TenantID, cfg.ClientID = f.URL(), "acme-tenant", "app-id"
	cfg.ClientSecret = adapter.Secret{Env: "TW_TEST_DV_SECRET"}
	cfg.TokenURL = f.TokenURL()
	cfg.Timeout = timeout
	c, err := dynamics.New(cfg, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDisableAndEnable(t *testing.T) {
	f := fakes.NewDataverse(t, "acme-tenant", "app-id", "s3cret")
	f.AddUser(user, false)
	c := newClient(t, f, "s3cret", 2*time.Second)
	if err := c.Freeze(t.Context(), strings.ToUpper(user)); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if frozen, err := c.Frozen(t.Context(), user); err != nil || !frozen {
		t.Fatalf("Frozen = %v, %v", frozen, err)
	}
	if err := c.Unfreeze(t.Context(), user); err != nil || f.Disabled(user) {
		t.Fatalf("Unfreeze: %v, disabled %v", err, f.Disabled(user))
	}
	if d, e := f.Counts(user); d != 1 || e != 1 {
		t.Fatalf("disables %d enables %d", d, e)
	}
	for _, r := range f.Requests() {
		if r.Method == http.MethodPatch && (r.Header.Get("If-Match") != "*" || r.Header.Get("OData-Version") != "4.0") {
			t.Fatalf("update without If-Match: * or OData-Version: %v", r.Header)
		}
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		user   string
		fault  *fakes.Fault
		kind   adapter.Kind
		text   string
		wait   time.Duration
	}{
		{name: "bad secret", secret: "nope", user: user, kind: adapter.KindAuth, text: "invalid_client"},
		{name: "unknown user", user: "00000000-0000-0000-0000-0000000000ff", kind: adapter.KindNotFound, text: "0x80040217"},
		{name: "not a guid", user: "005xx000001Sv6d", kind: adapter.KindInvalid, text: "not a systemuserid"},
		{name: "service protection limit", user: user, fault: ptr(fakes.DataverseThrottled(20)), kind: adapter.KindRetryable, text: "Number of requests exceeded", wait: 20 * time.Second},
		{name: "server error", user: user, fault: &fakes.Fault{Status: 500, Body: `{"error":{"code":"0x80040216","message":"An unexpected error occurred."}}`}, kind: adapter.KindRetryable, text: "unexpected error"},
		{name: "timeout", user: user, fault: &fakes.Fault{Hang: true}, kind: adapter.KindRetryable, text: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakes.NewDataverse(t, "acme-tenant", "app-id", "s3cret")
			f.AddUser(user, false)
			secret := tt.secret
			if secret == "" {
				secret = "s3cret"
			}
			c := newClient(t, f, secret, 200*time.Millisecond)
			if tt.fault != nil {
				f.Fail(1, *tt.fault)
			}
			err := c.Freeze(t.Context(), tt.user)
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) || ve.RetryAfter != tt.wait {
				t.Fatalf("err = %v; want kind %v containing %q, wait %v", err, tt.kind, tt.text, tt.wait)
			}
			if f.Disabled(user) {
				t.Fatal("a failed freeze disabled the user")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
