package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "slack"

// Config is one incoming webhook (one channel).
type Config struct {
	WebhookURL adapter.Secret `yaml:"webhook_url" doc:"The incoming-webhook URL, which is itself the credential: from a file or the environment."`
	Timeout    time.Duration  `yaml:"timeout" doc:"Bound on each HTTP call."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config { return Config{Timeout: 10 * time.Second} }

// Validate reports every problem, each prefixed with path.
func (c Config) Validate(path string) error {
	var errs []error
	if err := c.WebhookURL.Validate(path + ".webhook_url"); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}

// Client posts to one webhook.
type Client struct {
	url    string
	caller adapter.Caller
}

// New loads the webhook URL and returns a client; httpClient may be nil.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate("slack"); err != nil {
		return nil, err
	}
	u, err := cfg.WebhookURL.Load()
	if err != nil {
		return nil, fmt.Errorf("slack webhook_url: %w", err)
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return nil, fmt.Errorf("slack webhook_url: the secret is not an http(s) URL")
	}
	return &Client{url: u, caller: adapter.Caller{Vendor: vendorName, Client: httpClient, Timeout: cfg.Timeout, Classify: classify}}, nil
}

// Notify posts n.
func (c *Client) Notify(ctx context.Context, n adapter.Notification) error {
	body, err := json.Marshal(Message(n))
	if err != nil {
		return &adapter.Error{Vendor: vendorName, Op: "notify", Kind: adapter.KindInvalid, Err: err}
	}
	_, err = c.caller.Do(ctx, adapter.Request{Op: "notify", Method: http.MethodPost, URL: c.url, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}})
	return err
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string `json:"type"`
	Text     *text  `json:"text,omitempty"`
	Fields   []text `json:"fields,omitempty"`
	Elements []text `json:"elements,omitempty"`
}

type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

// Message builds the webhook body: text is the fallback Slack shows in
// notifications, blocks the message itself.
func Message(n adapter.Notification) any {
	title := n.Title
	if n.Event == adapter.EventResolve {
		title = "Resolved: " + title
	}
	fallback := title
	if n.Summary != "" {
		fallback += ": " + n.Summary
	}
	m := message{Text: escape(fallback)}
	m.Blocks = append(m.Blocks, block{Type: "header", Text: &text{Type: "plain_text", Text: clipRunes(title, 150)}})
	if n.Summary != "" {
		m.Blocks = append(m.Blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: clipRunes(escape(n.Summary), 3000)}})
	}
	fields := map[string]string{"Tenant": n.Tenant, "Account": n.Target, "Severity": n.Severity}
	for k, v := range n.Details {
		fields[k] = v
	}
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var fs []text
	for _, k := range keys {
		if len(fs) == 10 { // Slack's limit per section
			break
		}
		fs = append(fs, text{Type: "mrkdwn", Text: clipRunes("*"+escape(k)+"*\n"+escape(fields[k]), 2000)})
	}
	if len(fs) > 0 {
		m.Blocks = append(m.Blocks, block{Type: "section", Fields: fs})
	}
	ctx := "Trailwatch"
	if n.Key != "" {
		ctx += " · alert " + escape(n.Key)
	}
	if n.ActionID != "" {
		ctx += " · action " + escape(n.ActionID)
	}
	m.Blocks = append(m.Blocks, block{Type: "context", Elements: []text{{Type: "mrkdwn", Text: ctx}}})
	return m
}

// escape applies Slack's three mrkdwn escapes, so text from an alert can
// neither mention @channel nor forge links.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// classify follows Slack's incoming-webhook errors: a revoked or wrong
// webhook (no_service, invalid_token, action_prohibited) is an auth
// failure, an archived or deleted channel a permanent not-found.
func classify(status int, code string) adapter.Kind {
	switch status {
	case 403:
		return adapter.KindAuth
	case 404, 410:
		return adapter.KindNotFound
	}
	return 0
}
