package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "salesforce"

// Client freezes and unfreezes users of one org.
type Client struct {
	cfg    Config
	tokens *adapter.ClientCredentials
	caller adapter.Caller
}

// New loads the client secret and returns a client; httpClient may be nil.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate("salesforce"); err != nil {
		return nil, err
	}
	secret, err := cfg.ClientSecret.Load()
	if err != nil {
		return nil, fmt.Errorf("salesforce client_secret: %w", err)
	}
	tokens := &adapter.ClientCredentials{
		Vendor: vendorName, TokenURL: strings.TrimRight(cfg.LoginURL, "/") + "/services/oauth2/token",
		ClientID: cfg.ClientID, ClientSecret: secret, Client: httpClient, Timeout: cfg.Timeout,
	}
	return &Client{cfg: cfg, tokens: tokens, caller: adapter.Caller{
		Vendor: vendorName, Client: httpClient, Timeout: cfg.Timeout, Auth: tokens,
		Describe: describe, Classify: classify,
	}}, nil
}

// userID matches a Salesforce User id: key prefix 005, 15 or 18
// characters. Checking it also keeps the SOQL literal safe.
var userID = regexp.MustCompile(`^005[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$`)

type userLogin struct {
	ID       string `json:"Id"`
	IsFrozen bool   `json:"IsFrozen"`
}

// Frozen reports whether the user's UserLogin has IsFrozen set.
func (c *Client) Frozen(ctx context.Context, user string) (bool, error) {
	l, err := c.userLogin(ctx, user)
	if err != nil {
		return false, err
	}
	return l.IsFrozen, nil
}

// Freeze sets IsFrozen on the user's UserLogin. It reads the row first (it
// needs its Id anyway) and sends no update when the user is already frozen,
// so a re-sent freeze never reaches Salesforce twice.
func (c *Client) Freeze(ctx context.Context, user string) error { return c.set(ctx, user, true) }

// Unfreeze clears IsFrozen on the user's UserLogin, likewise only if set.
func (c *Client) Unfreeze(ctx context.Context, user string) error { return c.set(ctx, user, false) }

func (c *Client) set(ctx context.Context, user string, frozen bool) error {
	op := "freeze"
	if !frozen {
		op = "unfreeze"
	}
	l, err := c.userLogin(ctx, user)
	if err != nil {
		return err
	}
	if l.IsFrozen == frozen {
		return nil
	}
	base, err := c.base(ctx)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]bool{"IsFrozen": frozen})
	_, err = c.caller.Do(ctx, adapter.Request{
		Op: op, Method: http.MethodPatch,
		URL:    base + "/sobjects/UserLogin/" + url.PathEscape(l.ID),
		Body:   body,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
	})
	return err
}

func (c *Client) userLogin(ctx context.Context, user string) (userLogin, error) {
	if !userID.MatchString(user) {
		return userLogin{}, &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindInvalid,
			Message: fmt.Sprintf("%q is not a Salesforce user id (005…, 15 or 18 characters)", user)}
	}
	base, err := c.base(ctx)
	if err != nil {
		return userLogin{}, err
	}
	q := url.Values{"q": {"SELECT Id, IsFrozen FROM UserLogin WHERE UserId = '" + user + "'"}}
	res, err := c.caller.Do(ctx, adapter.Request{
		Op: "state", Method: http.MethodGet, URL: base + "/query?" + q.Encode(),
		Header: http.Header{"Accept": {"application/json"}},
	})
	if err != nil {
		return userLogin{}, err
	}
	var out struct {
		TotalSize int         `json:"totalSize"`
		Records   []userLogin `json:"records"`
	}
	if err := json.Unmarshal(res.Body, &out); err != nil {
		return userLogin{}, &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindRetryable,
			Status: res.Status, Message: "query response is not JSON", Err: err}
	}
	if len(out.Records) == 0 {
		return userLogin{}, &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindNotFound,
			Message: "no UserLogin row for user " + user}
	}
	return out.Records[0], nil
}

// base is the versioned REST base URL: the configured instance, or the one
// the token response named.
func (c *Client) base(ctx context.Context) (string, error) {
	inst := c.cfg.InstanceURL
	if inst == "" {
		t, err := c.tokens.Token(ctx)
		if err != nil {
			return "", err
		}
		inst = t.InstanceURL
		if inst == "" {
			return "", &adapter.Error{Vendor: vendorName, Op: "token", Kind: adapter.KindPermanent,
				Message: "token response has no instance_url; set instance_url"}
		}
	}
	return strings.TrimRight(inst, "/") + "/services/data/v" + c.cfg.APIVersion, nil
}

// describe reads Salesforce's REST error body: [{"message","errorCode"}].
func describe(b []byte) (string, string) {
	var errs []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(b, &errs) != nil || len(errs) == 0 {
		return "", ""
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	return errs[0].ErrorCode, strings.Join(msgs, "; ")
}

// classify knows Salesforce's transient error codes that arrive with
// non-5xx statuses.
func classify(status int, code string) adapter.Kind {
	switch code {
	case "REQUEST_LIMIT_EXCEEDED", // 403 when the org's API request limit is spent
		"UNABLE_TO_LOCK_ROW", // 400 on row-lock contention
		"SERVER_UNAVAILABLE": // 503
		return adapter.KindRetryable
	case "INVALID_SESSION_ID":
		return adapter.KindAuth
	}
	return 0
}
