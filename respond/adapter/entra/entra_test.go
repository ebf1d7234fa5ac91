package entra_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/entra"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

const (
	userID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
	upn    = "jdoe@acme.example"
)

func newClient(t *testing.T, g *fakes.Graph, secret string, timeout time.Duration) *entra.Client {
	t.Helper()
	t.Setenv("TW_TEST_ENTRA_SECRET", secret)
	cfg := entra.DefaultConfig()
	cfg.TenantID, cfg.ClientID = "acme-tenant", "app-id"
	cfg.ClientSecret = adapter.Secret{Env: "TW_TEST_ENTRA_SECRET"}
	cfg.TokenURL, cfg.GraphURL = g.TokenURL(), g.GraphURL()
	cfg.Timeout = timeout
	c, err := entra.New(cfg, g.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDisableRevokeAndEnable(t *testing.T) {
	g := fakes.NewGraph(t, "acme-tenant", "app-id", "s3cret")
	g.AddUser(userID, upn, true)
	c := newClient(t, g, "s3cret", 2*time.Second)

	if err := c.Freeze(t.Context(), upn); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if frozen, err := c.Frozen(t.Context(), userID); err != nil || !frozen {
		t.Fatalf("Frozen = %v, %v", frozen, err)
	}
	if d, e, r := g.Counts(userID); d != 1 || e != 0 || r != 1 {
		t.Fatalf("disables %d enables %d revokes %d; want 1 0 1", d, e, r)
	}
	// The order matters: no new sign-ins first, then kill the sessions.
	var ops []string
	for _, r := range g.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/") {
			ops = append(ops, r.Method+" "+strings.TrimPrefix(r.Path, "/v1.0/users/"+upn))
		}
	}
	if len(ops) < 2 || ops[0] != "PATCH " || ops[1] != "POST /revokeSignInSessions" {
		t.Fatalf("calls %q", ops)
	}
	if err := c.Unfreeze(t.Context(), upn); err != nil || !g.Enabled(userID) {
		t.Fatalf("Unfreeze: %v, enabled %v", err, g.Enabled(userID))
	}
}

func TestExpiredTokenRefreshesOnce(t *testing.T) {
	g := fakes.NewGraph(t, "acme-tenant", "app-id", "s3cret")
	g.AddUser(userID, upn, true)
	c := newClient(t, g, "s3cret", 2*time.Second)
	if _, err := c.Frozen(t.Context(), userID); err != nil {
		t.Fatal(err)
	}
	g.Expire()
	if err := c.Freeze(t.Context(), userID); err != nil {
		t.Fatalf("Freeze after expiry: %v", err)
	}
	if g.TokensIssued() != 2 {
		t.Fatalf("%d tokens issued, want 2", g.TokensIssued())
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
		{name: "bad secret", secret: "nope", user: userID, kind: adapter.KindAuth, text: "invalid_client"},
		{name: "unknown user", user: "nobody@acme.example", kind: adapter.KindNotFound, text: "Request_ResourceNotFound"},
		{name: "throttled", user: userID, fault: ptr(fakes.GraphThrottled(9)), kind: adapter.KindRetryable, text: "TooManyRequests", wait: 9 * time.Second},
		{name: "unavailable", user: userID, fault: &fakes.Fault{Status: 503, Header: http.Header{"Retry-After": {"3"}}, Body: `{"error":{"code":"serviceNotAvailable","message":"Service unavailable"}}`}, kind: adapter.KindRetryable, text: "serviceNotAvailable", wait: 3 * time.Second},
		{name: "insufficient privileges", user: userID, fault: &fakes.Fault{Status: 403, Body: `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`}, kind: adapter.KindAuth, text: "Insufficient privileges"},
		{name: "timeout", user: userID, fault: &fakes.Fault{Hang: true}, kind: adapter.KindRetryable, text: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fakes.NewGraph(t, "acme-tenant", "app-id", "s3cret")
			g.AddUser(userID, upn, true)
			secret := tt.secret
			if secret == "" {
				secret = "s3cret"
			}
			c := newClient(t, g, secret, 200*time.Millisecond)
			if tt.fault != nil {
				g.Fail(1, *tt.fault)
			}
			err := c.Freeze(t.Context(), tt.user)
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) || ve.RetryAfter != tt.wait {
				t.Fatalf("err = %v; want kind %v containing %q, wait %v", err, tt.kind, tt.text, tt.wait)
			}
			if !g.Enabled(userID) {
				t.Fatal("a failed freeze disabled the user")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
