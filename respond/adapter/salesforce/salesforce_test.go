package salesforce_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/salesforce"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

const user = "005xx000001Sv6dAAC"

func newClient(t *testing.T, sf *fakes.Salesforce, secret string) *salesforce.Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := salesforce.DefaultConfig()
	cfg.LoginURL = sf.URL()
	cfg.ClientID = "consumer-key"
	cfg.ClientSecret = adapter.Secret{File: path}
	cfg.Timeout = 2 * time.Second
	c, err := salesforce.New(cfg, sf.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFreezeAndUnfreeze(t *testing.T) {
	sf := fakes.NewSalesforce(t, "consumer-key", "s3cret")
	sf.AddUser(user, false)
	c := newClient(t, sf, "s3cret")

	if frozen, err := c.Frozen(t.Context(), user); err != nil || frozen {
		t.Fatalf("Frozen before = %v, %v", frozen, err)
	}
	if err := c.Freeze(t.Context(), user); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if !sf.IsFrozen(user) || sf.Freezes(user) != 1 {
		t.Fatalf("after Freeze: frozen %v, %d freezes", sf.IsFrozen(user), sf.Freezes(user))
	}
	// Freezing again reads the row and sends no second update.
	if err := c.Freeze(t.Context(), user); err != nil {
		t.Fatalf("second Freeze: %v", err)
	}
	if got := sf.Count(http.MethodPatch, "/services/data/v62.0/sobjects/UserLogin/"); got != 1 {
		t.Fatalf("%d PATCH requests, want exactly 1", got)
	}
	if err := c.Unfreeze(t.Context(), user); err != nil || sf.IsFrozen(user) || sf.Unfreezes(user) != 1 {
		t.Fatalf("Unfreeze: %v, frozen %v, %d unfreezes", err, sf.IsFrozen(user), sf.Unfreezes(user))
	}

	// The query is the documented one, parameterised only by a checked id.
	var sawQuery bool
	for _, r := range sf.Requests() {
		if r.Method == http.MethodGet {
			sawQuery = true
			if !strings.Contains(r.RawQuery, "FROM+UserLogin+WHERE+UserId+%3D+%27"+user+"%27") {
				t.Errorf("query %q", r.RawQuery)
			}
			if r.Header.Get("Authorization") != "Bearer tok-1" {
				t.Errorf("authorization %q", r.Header.Get("Authorization"))
			}
		}
	}
	if !sawQuery || sf.TokensIssued() != 1 {
		t.Fatalf("query seen %v, tokens issued %d (want one token reused)", sawQuery, sf.TokensIssued())
	}
}

func TestExpiredSessionRefreshesOnce(t *testing.T) {
	sf := fakes.NewSalesforce(t, "consumer-key", "s3cret")
	sf.AddUser(user, false)
	c := newClient(t, sf, "s3cret")
	if _, err := c.Frozen(t.Context(), user); err != nil {
		t.Fatal(err)
	}
	sf.Expire() // the session times out
	if err := c.Freeze(t.Context(), user); err != nil {
		t.Fatalf("Freeze after expiry: %v", err)
	}
	if sf.TokensIssued() != 2 || !sf.IsFrozen(user) {
		t.Fatalf("tokens issued %d, frozen %v", sf.TokensIssued(), sf.IsFrozen(user))
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		fault  *fakes.Fault
		user   string
		kind   adapter.Kind
		text   string
		wait   time.Duration
	}{
		{name: "bad client secret", secret: "wrong", user: user, kind: adapter.KindAuth, text: "invalid client credentials"},
		{name: "unknown user", user: "005xx000009ZZZZAAA", kind: adapter.KindNotFound, text: "no UserLogin row"},
		{name: "not a user id", user: "0055' OR Name LIKE '%", kind: adapter.KindInvalid, text: "not a Salesforce user id"},
		{name: "api limit spent", user: user, fault: ptr(fakes.SalesforceRateLimited()), kind: adapter.KindRetryable, text: "TotalRequests Limit exceeded"},
		{name: "429 with Retry-After", user: user, fault: &fakes.Fault{Status: 429, Header: http.Header{"Retry-After": {"7"}}, Body: `[{"message":"slow","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`}, kind: adapter.KindRetryable, text: "slow", wait: 7 * time.Second},
		{name: "server error", user: user, fault: &fakes.Fault{Status: 503, Body: `[{"message":"Server Unavailable","errorCode":"SERVER_UNAVAILABLE"}]`}, kind: adapter.KindRetryable, text: "Server Unavailable"},
		{name: "insufficient access", user: user, fault: &fakes.Fault{Status: 403, Body: `[{"message":"Insufficient access rights on cross-reference id","errorCode":"INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"}]`}, kind: adapter.KindAuth, text: "Insufficient access"},
		{name: "timeout", user: user, fault: &fakes.Fault{Hang: true}, kind: adapter.KindRetryable, text: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sf := fakes.NewSalesforce(t, "consumer-key", "s3cret")
			sf.AddUser(user, false)
			secret := tt.secret
			if secret == "" {
				secret = "s3cret"
			}
			c := newClient(t, sf, secret)
			if tt.fault != nil {
				sf.Fail(1, *tt.fault)
			}
			if tt.name == "timeout" {
				c = shortTimeout(t, sf)
				sf.Fail(1, *tt.fault)
			}
			err := c.Freeze(t.Context(), tt.user)
			var ve *adapter.Error
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *adapter.Error", err)
			}
			if ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) || ve.RetryAfter != tt.wait {
				t.Fatalf("err = %v (kind %v, wait %v); want kind %v containing %q, wait %v", err, ve.Kind, ve.RetryAfter, tt.kind, tt.text, tt.wait)
			}
			if sf.Freezes(user) != 0 {
				t.Fatal("a failed freeze changed the user")
			}
		})
	}
}

func shortTimeout(t *testing.T, sf *fakes.Salesforce) *salesforce.Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(path, []byte("s3cret"), 0o600)
	cfg := salesforce.DefaultConfig()
	cfg.LoginURL, cfg.ClientID, cfg.ClientSecret = sf.URL(), "consumer-key", adapter.Secret{File: path}
	cfg.Timeout = 50 * time.Millisecond
	c, err := salesforce.New(cfg, sf.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigValidateNamesEverySetting(t *testing.T) {
	cfg := salesforce.Config{APIVersion: "v62", Auth: "jwt_bearer"}
	err := cfg.Validate("adapters.sf")
	for _, want := range []string{"adapters.sf.login_url", "adapters.sf.api_version", "adapters.sf.auth", "adapters.sf.client_id", "adapters.sf.client_secret", "adapters.sf.timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; missing %s", err, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
