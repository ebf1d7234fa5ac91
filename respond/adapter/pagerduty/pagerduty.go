package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "pagerduty"

// Config is one PagerDuty service integration.
type Config struct {
	EventsURL  string         `yaml:"events_url" doc:"Events API v2 enqueue endpoint."`
	RoutingKey adapter.Secret `yaml:"routing_key" doc:"Integration key of an Events API v2 integration, from a file or the environment."`
	Source     string         `yaml:"source" doc:"payload.source of every event: what PagerDuty shows as the affected system."`
	ClientURL  string         `yaml:"client_url" doc:"Link PagerDuty shows back to Trailwatch (a console URL), optional."`
	Timeout    time.Duration  `yaml:"timeout" doc:"Bound on each HTTP call."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config {
	return Config{EventsURL: "https://events.pagerduty.com/v2/enqueue", Source: "trailwatch", Timeout: 10 * time.Second}
}

// Validate reports every problem, each prefixed with path.
func (c Config) Validate(path string) error {
	var errs []error
	if u, err := url.Parse(c.EventsURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s.events_url: an absolute URL is required, got %q", path, c.EventsURL))
	}
	if err := c.RoutingKey.Validate(path + ".routing_key"); err != nil {
		errs = append(errs, err)
	}
	if c.Source == "" {
		errs = append(errs, fmt.Errorf("%s.source: required", path))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}

// Client sends events to one integration.
type Client struct {
	cfg        Config
	routingKey string
	caller     adapter.Caller
}

// New loads the routing key and returns a client; httpClient may be nil.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate("pagerduty"); err != nil {
		return nil, err
	}
	key, err := cfg.RoutingKey.Load()
	if err != nil {
		return nil, fmt.Errorf("pagerduty routing_key: %w", err)
	}
	return &Client{cfg: cfg, routingKey: key, caller: adapter.Caller{
		Vendor: vendorName, Client: httpClient, Timeout: cfg.Timeout, Describe: describe,
	}}, nil
}

type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key,omitempty"`
	Payload     *payload `json:"payload,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

type payload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// Severity maps an alert severity onto PagerDuty's four.
func Severity(s string) string {
	switch s {
	case "critical":
		return "critical"
	case "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "info"
}

// Notify triggers (or resolves) the PagerDuty alert keyed by n.Key.
func (c *Client) Notify(ctx context.Context, n adapter.Notification) error {
	if n.Key == "" || len(n.Key) > 255 {
		return &adapter.Error{Vendor: vendorName, Op: "notify", Kind: adapter.KindInvalid,
			Message: fmt.Sprintf("dedup key must be 1 to 255 characters, got %d", len(n.Key))}
	}
	ev := event{RoutingKey: c.routingKey, DedupKey: n.Key, EventAction: "trigger"}
	if n.Event == adapter.EventResolve {
		ev.EventAction = "resolve"
	} else {
		summary := n.Title
		if n.Summary != "" {
			summary += ": " + n.Summary
		}
		details := map[string]string{"tenant": n.Tenant, "account": n.Target, "action_id": n.ActionID}
		for k, v := range n.Details {
			details[k] = v
		}
		for k, v := range details {
			if v == "" {
				delete(details, k)
			}
		}
		ev.Payload = &payload{
			Summary: clip(summary, 1024), Source: c.cfg.Source, Severity: Severity(n.Severity),
			Group: n.Tenant, Class: n.Details["rule"], CustomDetails: details,
		}
		if !n.Time.IsZero() {
			ev.Payload.Timestamp = n.Time.UTC().Format(time.RFC3339Nano)
		}
		ev.Client, ev.ClientURL = "Trailwatch", c.cfg.ClientURL
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return &adapter.Error{Vendor: vendorName, Op: "notify", Kind: adapter.KindInvalid, Err: err}
	}
	_, err = c.caller.Do(ctx, adapter.Request{Op: "notify", Method: http.MethodPost, URL: c.cfg.EventsURL, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}})
	return err
}

// clip shortens s to at most n bytes without splitting a rune.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// describe reads the Events API error body: status, message, errors[].
func describe(b []byte) (string, string) {
	var e struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	msg := e.Message
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	}
	return e.Status, msg
}
