package okta_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/okta"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

func newClient(t *testing.T, f *fakes.Okta, token string, timeout time.Duration) *okta.Client {
	t.Helper()
	t.Setenv("TW_TEST_OKTA_TOKEN", token)
	cfg := okta.DefaultConfig()
	cfg.OrgURL = f.URL()
	cfg.APIToken = adapter.Secret{Env: "TW_TEST_OKTA_TOKEN"}
	cfg.Timeout = timeout
	c, err := okta.New(cfg, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSuspendAndUnsuspend(t *testing.T) {
	f := fakes.NewOkta(t, "ssws-token")
	f.AddUser("00ub0oNGTSWTBKOLGLNR", "jdoe@acme.example", "ACTIVE")
	c := newClient(t, f, "ssws-token", 2*time.Second)

	for _, user := range []string{"00ub0oNGTSWTBKOLGLNR", "jdoe@acme.example"} {
		if err := c.Freeze(t.Context(), user); err != nil {
			t.Fatalf("Freeze(%s): %v", user, err)
		}
		if frozen, err := c.Frozen(t.Context(), user); err != nil || !frozen {
			t.Fatalf("Frozen(%s) = %v, %v", user, frozen, err)
		}
	}
	// The second suspend met a SUSPENDED user: Okta said 400, the adapter
	// checked the status and called it done.
	if f.Suspends("jdoe@acme.example") != 1 || f.Count(http.MethodPost, "/api/v1/users/") != 2 {
		t.Fatalf("suspends %d, posts %d", f.Suspends("jdoe@acme.example"), f.Count(http.MethodPost, "/api/v1/users/"))
	}
	if err := c.Unfreeze(t.Context(), "jdoe@acme.example"); err != nil || f.Status("jdoe@acme.example") != "ACTIVE" {
		t.Fatalf("Unfreeze: %v, status %s", err, f.Status("jdoe@acme.example"))
	}
	for _, r := range f.Requests() {
		if r.Header.Get("Authorization") != "SSWS ssws-token" {
			t.Fatalf("request without the SSWS token: %s %s", r.Method, r.Path)
		}
	}
}

func TestSuspendRefusedForDeprovisionedUser(t *testing.T) {
	f := fakes.NewOkta(t, "ssws-token")
	f.AddUser("00u2", "gone@acme.example", "DEPROVISIONED")
	c := newClient(t, f, "ssws-token", 2*time.Second)
	err := c.Freeze(t.Context(), "00u2")
	if !errors.Is(err, adapter.ErrInvalid) || !strings.Contains(err.Error(), "Cannot suspend a user that is not active") {
		t.Fatalf("err = %v, want the vendor's refusal", err)
	}
}

func TestFailures(t *testing.T) {
	reset := time.Now().Add(42 * time.Second).Truncate(time.Second)
	tests := []struct {
		name  string
		token string
		user  string
		fault *fakes.Fault
		kind  adapter.Kind
		text  string
	}{
		{name: "invalid token", token: "stale", user: "00u1", kind: adapter.KindAuth, text: "E0000011: Invalid token provided"},
		{name: "unknown user", user: "00unknown", kind: adapter.KindNotFound, text: "E0000007"},
		{name: "bad id", user: "../../api/v1/groups", kind: adapter.KindInvalid, text: "not an Okta user id"},
		{name: "rate limited", user: "00u1", fault: ptr(fakes.OktaRateLimited(reset)), kind: adapter.KindRetryable, text: "E0000047"},
		{name: "server error", user: "00u1", fault: &fakes.Fault{Status: 500, Body: `{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`}, kind: adapter.KindRetryable, text: "Internal Server Error"},
		{name: "forbidden", user: "00u1", fault: &fakes.Fault{Status: 403, Body: `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action"}`}, kind: adapter.KindAuth, text: "E0000006"},
		{name: "timeout", user: "00u1", fault: &fakes.Fault{Hang: true}, kind: adapter.KindRetryable, text: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakes.NewOkta(t, "ssws-token")
			f.AddUser("00u1", "a@acme.example", "ACTIVE")
			token := tt.token
			if token == "" {
				token = "ssws-token"
			}
			c := newClient(t, f, token, 200*time.Millisecond)
			if tt.fault != nil {
				f.Fail(1, *tt.fault)
			}
			err := c.Freeze(t.Context(), tt.user)
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want kind %v containing %q", err, tt.kind, tt.text)
			}
			if tt.name == "rate limited" {
				// X-Rate-Limit-Reset is epoch seconds: the wait runs to it.
				if ve.RetryAfter <= 0 || ve.RetryAfter > 42*time.Second {
					t.Fatalf("RetryAfter = %v, want (0, 42s]", ve.RetryAfter)
				}
			}
			if f.Suspends("00u1") != 0 {
				t.Fatal("a failed call suspended the user")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
