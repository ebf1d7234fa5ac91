package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "okta"

// Client suspends and unsuspends users of one Okta org.
type Client struct {
	base   string
	caller adapter.Caller
}

// New loads the API token and returns a client; httpClient may be nil.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate("okta"); err != nil {
		return nil, err
	}
	token, err := cfg.APIToken.Load()
	if err != nil {
		return nil, fmt.Errorf("okta api_token: %w", err)
	}
	return &Client{base: strings.TrimRight(cfg.OrgURL, "/"), caller: adapter.Caller{
		Vendor: vendorName, Client: httpClient, Timeout: cfg.Timeout,
		Auth:     adapter.StaticAuth{Scheme: "SSWS", Token: token},
		Describe: describe, ResetHeader: "X-Rate-Limit-Reset",
	}}, nil
}

// Suspended users cannot sign in; their groups and apps are kept.
const (
	statusActive    = "ACTIVE"
	statusSuspended = "SUSPENDED"
)

// Frozen reports whether the user's status is SUSPENDED. user is an Okta
// id, a login or an unambiguous login short name.
func (c *Client) Frozen(ctx context.Context, user string) (bool, error) {
	s, err := c.status(ctx, user)
	return s == statusSuspended, err
}

// Freeze suspends the user. Okta allows it only from ACTIVE and answers 400
// otherwise; a user already SUSPENDED counts as done.
func (c *Client) Freeze(ctx context.Context, user string) error {
	return c.transition(ctx, user, "suspend", statusSuspended)
}

// Unfreeze unsuspends the user (back to ACTIVE); a user already ACTIVE
// counts as done.
func (c *Client) Unfreeze(ctx context.Context, user string) error {
	return c.transition(ctx, user, "unsuspend", statusActive)
}

func (c *Client) transition(ctx context.Context, user, op, want string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	_, err := c.caller.Do(ctx, adapter.Request{
		Op: op, Method: http.MethodPost,
		URL:    c.base + "/api/v1/users/" + url.PathEscape(user) + "/lifecycle/" + op,
		Header: http.Header{"Accept": {"application/json"}},
	})
	if err == nil || !errors.Is(err, adapter.ErrInvalid) {
		return err
	}
	// Lifecycle operations are not idempotent: a user already in the target
	// status gets a 400. Ask for the status before calling that a failure.
	s, serr := c.status(ctx, user)
	if serr == nil && s == want {
		return nil
	}
	return err
}

func (c *Client) status(ctx context.Context, user string) (string, error) {
	if err := checkUser(user); err != nil {
		return "", err
	}
	res, err := c.caller.Do(ctx, adapter.Request{
		Op: "state", Method: http.MethodGet, URL: c.base + "/api/v1/users/" + url.PathEscape(user),
		Header: http.Header{"Accept": {"application/json"}},
	})
	if err != nil {
		return "", err
	}
	var u struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(res.Body, &u); err != nil || u.Status == "" {
		return "", &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindRetryable, Status: res.Status,
			Message: "user response has no status", Err: err}
	}
	return u.Status, nil
}

func checkUser(user string) error {
	if user == "" || strings.ContainsAny(user, "/?#") || user == "." || user == ".." {
		return &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindInvalid,
			Message: fmt.Sprintf("%q is not an Okta user id or login", user)}
	}
	return nil
}

// describe reads Okta's error body: errorCode, errorSummary and the
// summaries of errorCauses.
func describe(b []byte) (string, string) {
	var e struct {
		Code    string `json:"errorCode"`
		Summary string `json:"errorSummary"`
		Causes  []struct {
			Summary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	msg := e.Summary
	for _, c := range e.Causes {
		msg += "; " + c.Summary
	}
	return e.Code, msg
}
