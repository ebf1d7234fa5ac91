package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "webhook"

// Operations a receiver implements.
const (
	OpFreeze   = "freeze"   // block the account; 2xx when done (or already so)
	OpUnfreeze = "unfreeze" // unblock it
	OpStatus   = "status"   // answer {"frozen": true|false}
	OpNotify   = "notify"   // an alert or responder notification to show or route
)

// Payload is the JSON body of every request.
type Payload struct {
	Operation    string               `json:"operation"`
	Account      string               `json:"account,omitempty"`
	ActionID     string               `json:"action_id,omitempty"`
	Notification *NotificationPayload `json:"notification,omitempty"`
	SentAt       string               `json:"sent_at"`
}

// NotificationPayload is a notification as the receiver sees it.
type NotificationPayload struct {
	Key      string            `json:"key"`
	Event    string            `json:"event"`
	Severity string            `json:"severity,omitempty"`
	Title    string            `json:"title"`
	Summary  string            `json:"summary,omitempty"`
	Tenant   string            `json:"tenant,omitempty"`
	Target   string            `json:"target,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
	Time     string            `json:"time,omitempty"`
}

// Client calls one receiver.
type Client struct {
	url     string
	secrets [][]byte
	caller  adapter.Caller
	now     func() time.Time
}

// New loads the secrets and returns a client; httpClient may be nil.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate("webhook"); err != nil {
		return nil, err
	}
	s, err := cfg.Secret.Load()
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	secrets := [][]byte{[]byte(s)}
	if cfg.PreviousSecret.IsSet() {
		p, err := cfg.PreviousSecret.Load()
		if err != nil {
			return nil, fmt.Errorf("webhook previous_secret: %w", err)
		}
		secrets = append(secrets, []byte(p))
	}
	return &Client{url: cfg.URL, secrets: secrets, now: time.Now, caller: adapter.Caller{
		Vendor: vendorName, Client: httpClient, Timeout: cfg.Timeout, Describe: describe,
	}}, nil
}

// Freeze asks the receiver to block the account.
func (c *Client) Freeze(ctx context.Context, account string) error {
	_, err := c.send(ctx, Payload{Operation: OpFreeze, Account: account})
	return err
}

// Unfreeze asks the receiver to unblock the account.
func (c *Client) Unfreeze(ctx context.Context, account string) error {
	_, err := c.send(ctx, Payload{Operation: OpUnfreeze, Account: account})
	return err
}

// Frozen asks the receiver whether the account is blocked.
func (c *Client) Frozen(ctx context.Context, account string) (bool, error) {
	res, err := c.send(ctx, Payload{Operation: OpStatus, Account: account})
	if err != nil {
		return false, err
	}
	var s struct {
		Frozen *bool `json:"frozen"`
	}
	if err := json.Unmarshal(res.Body, &s); err != nil || s.Frozen == nil {
		return false, &adapter.Error{Vendor: vendorName, Op: OpStatus, Kind: adapter.KindPermanent, Status: res.Status,
			Message: `status answer is not {"frozen": true|false}`, Err: err}
	}
	return *s.Frozen, nil
}

// Notify sends a notification.
func (c *Client) Notify(ctx context.Context, n adapter.Notification) error {
	ev := n.Event
	if ev == "" {
		ev = adapter.EventTrigger
	}
	np := &NotificationPayload{Key: n.Key, Event: ev, Severity: n.Severity, Title: n.Title, Summary: n.Summary,
		Tenant: n.Tenant, Target: n.Target, Details: n.Details}
	if !n.Time.IsZero() {
		np.Time = n.Time.UTC().Format(time.RFC3339Nano)
	}
	_, err := c.send(ctx, Payload{Operation: OpNotify, ActionID: n.ActionID, Notification: np})
	return err
}

func (c *Client) send(ctx context.Context, p Payload) (*adapter.Response, error) {
	now := c.now()
	if p.ActionID == "" {
		p.ActionID = adapter.ActionID(ctx)
	}
	p.SentAt = now.UTC().Format(time.RFC3339Nano)
	body, err := json.Marshal(p)
	if err != nil {
		return nil, &adapter.Error{Vendor: vendorName, Op: p.Operation, Kind: adapter.KindInvalid, Err: err}
	}
	ts, sig := Sign(now, body, c.secrets...)
	h := http.Header{"Content-Type": {"application/json"}, HeaderTimestamp: {ts}, HeaderSignature: {sig}}
	if p.ActionID != "" {
		h.Set(HeaderDelivery, p.ActionID+":"+p.Operation)
	}
	// Sign again on every attempt (the caller's retries re-enter send), so
	// a delayed retry never carries a timestamp the receiver calls stale.
	return c.caller.Do(ctx, adapter.Request{Op: p.Operation, Method: http.MethodPost, URL: c.url, Body: body, Header: h})
}

// describe reads {"error": "..."} when the receiver sends it.
func describe(b []byte) (string, string) {
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	return e.Code, e.Error
}
