package slack_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/slack"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

func newClient(t *testing.T, webhookURL string, f *fakes.Slack, timeout time.Duration) *slack.Client {
	t.Helper()
	t.Setenv("TW_TEST_SLACK_URL", webhookURL)
	cfg := slack.DefaultConfig()
	cfg.WebhookURL = adapter.Secret{Env: "TW_TEST_SLACK_URL"}
	cfg.Timeout = timeout
	c, err := slack.New(cfg, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPostsTextAndBlocks(t *testing.T) {
	f := fakes.NewSlack(t)
	c := newClient(t, f.WebhookURL(), f, 2*time.Second)
	err := c.Notify(t.Context(), adapter.Notification{Key: "alert-1", Title: "Freeze awaits approval", Severity: "high",
		Summary: "<!channel> jdoe exported 5000 contacts & left", Tenant: "acme", Target: "005xx", ActionID: "act-1",
		Details: map[string]string{"rule": "bulk-export"}})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	m := f.Messages()
	if len(m) != 1 {
		t.Fatalf("%d messages", len(m))
	}
	if !strings.Contains(m[0].Text, "&lt;!channel&gt; jdoe exported 5000 contacts &amp; left") {
		t.Fatalf("text not escaped: %q", m[0].Text)
	}
	if len(m[0].Blocks) != 4 || m[0].Blocks[0]["type"] != "header" || m[0].Blocks[3]["type"] != "context" {
		t.Fatalf("blocks %v", m[0].Blocks)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		n     adapter.Notification
		fault *fakes.Fault
		kind  adapter.Kind
		text  string
		wait  time.Duration
	}{
		{name: "rate limited", n: adapter.Notification{Title: "t"}, fault: ptr(fakes.SlackRateLimited("30")), kind: adapter.KindRetryable, text: "rate_limited", wait: 30 * time.Second},
		{name: "revoked webhook", path: "/services/T000FAKE/B000FAKE/revoked", n: adapter.Notification{Title: "t"}, kind: adapter.KindNotFound, text: "no_service"},
		{name: "too long header", n: adapter.Notification{Title: strings.Repeat("x", 149) + "é"}, kind: 0},
		{name: "action prohibited", n: adapter.Notification{Title: "t"}, fault: &fakes.Fault{Status: 403, Body: "action_prohibited"}, kind: adapter.KindAuth, text: "action_prohibited"},
		{name: "archived channel", n: adapter.Notification{Title: "t"}, fault: &fakes.Fault{Status: 410, Body: "channel_is_archived"}, kind: adapter.KindNotFound, text: "channel_is_archived"},
		{name: "rollup error", n: adapter.Notification{Title: "t"}, fault: &fakes.Fault{Status: 500, Body: "rollup_error"}, kind: adapter.KindRetryable, text: "rollup_error"},
		{name: "timeout", n: adapter.Notification{Title: "t"}, fault: &fakes.Fault{Hang: true}, kind: adapter.KindRetryable, text: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakes.NewSlack(t)
			u := f.WebhookURL()
			if tt.path != "" {
				u = f.URL() + tt.path
			}
			c := newClient(t, u, f, 200*time.Millisecond)
			if tt.fault != nil {
				f.Fail(1, *tt.fault)
			}
			err := c.Notify(t.Context(), tt.n)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("err = %v, want the header clipped and accepted", err)
				}
				return
			}
			var ve *adapter.Error
			if !errors.As(err, &ve) || ve.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) || ve.RetryAfter != tt.wait {
				t.Fatalf("err = %v; want kind %v containing %q, wait %v", err, tt.kind, tt.text, tt.wait)
			}
			if len(f.Messages()) != 0 {
				t.Fatal("a failed post was accepted")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
