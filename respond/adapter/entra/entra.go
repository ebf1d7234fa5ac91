package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "entra"

// Client disables and enables users of one directory.
type Client struct {
	graph  string
	revoke bool
	caller adapter.Caller
}

// New loads the client secret and returns a client; httpClient may be nil.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate("entra"); err != nil {
		return nil, err
	}
	secret, err := cfg.ClientSecret.Load()
	if err != nil {
		return nil, fmt.Errorf("entra client_secret: %w", err)
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = adapter.MicrosoftTokenURL(cfg.TenantID)
	}
	tokens := &adapter.ClientCredentials{Vendor: vendorName, TokenURL: tokenURL, ClientID: cfg.ClientID,
		ClientSecret: secret, Scope: "https://graph.microsoft.com/.default", Client: httpClient, Timeout: cfg.Timeout}
	return &Client{graph: strings.TrimRight(cfg.GraphURL, "/"), revoke: cfg.RevokeSessions, caller: adapter.Caller{
		Vendor: vendorName, Client: httpClient, Timeout: cfg.Timeout, Auth: tokens, Describe: adapter.DescribeMicrosoft,
	}}, nil
}

// Frozen reports whether the user's accountEnabled is false. user is an
// object id or a userPrincipalName.
func (c *Client) Frozen(ctx context.Context, user string) (bool, error) {
	u, err := c.userURL(user)
	if err != nil {
		return false, err
	}
	res, err := c.caller.Do(ctx, adapter.Request{Op: "state", Method: http.MethodGet,
		URL: u + "?$select=accountEnabled", Header: http.Header{"Accept": {"application/json"}}})
	if err != nil {
		return false, err
	}
	var body struct {
		AccountEnabled *bool `json:"accountEnabled"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil || body.AccountEnabled == nil {
		return false, &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindRetryable, Status: res.Status,
			Message: "user response has no accountEnabled", Err: err}
	}
	return !*body.AccountEnabled, nil
}

// Freeze sets accountEnabled=false (no new sign-ins) and then revokes the
// user's sign-in sessions (existing refresh tokens and session cookies
// stop working). Both calls are safe to repeat, so a retry after a failed
// revocation simply sends both again.
func (c *Client) Freeze(ctx context.Context, user string) error {
	if err := c.setEnabled(ctx, user, false, "freeze"); err != nil {
		return err
	}
	if !c.revoke {
		return nil
	}
	u, _ := c.userURL(user)
	_, err := c.caller.Do(ctx, adapter.Request{Op: "revoke_sessions", Method: http.MethodPost,
		URL: u + "/revokeSignInSessions", Header: http.Header{"Accept": {"application/json"}}})
	return err
}

// Unfreeze sets accountEnabled=true. Revoked sessions stay revoked: the
// user signs in again.
func (c *Client) Unfreeze(ctx context.Context, user string) error {
	return c.setEnabled(ctx, user, true, "unfreeze")
}

func (c *Client) setEnabled(ctx context.Context, user string, enabled bool, op string) error {
	u, err := c.userURL(user)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]bool{"accountEnabled": enabled})
	_, err = c.caller.Do(ctx, adapter.Request{Op: op, Method: http.MethodPatch, URL: u, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}})
	return err
}

func (c *Client) userURL(user string) (string, error) {
	if user == "" || user == "." || user == ".." {
		return "", &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindInvalid,
			Message: fmt.Sprintf("%q is not a user id or userPrincipalName", user)}
	}
	// PathEscape encodes the '#' of guest UPNs (…#EXT#@…) as Graph requires.
	return c.graph + "/users/" + url.PathEscape(user), nil
}
