package adapter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Token is an OAuth 2.0 access token.
type Token struct {
	Value  string
	Expiry time.Time // zero: the vendor did not say (Salesforce); refreshed on 401
	// InstanceURL is Salesforce's instance_url: where the org's API lives.
	InstanceURL string
}

// ClientCredentials obtains tokens with the OAuth 2.0 client-credentials
// grant (RFC 6749 §4.4, client_secret_post), caches one until shortly
// before it expires, and fetches a new one when a vendor refuses it.
type ClientCredentials struct {
	Vendor       string
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string // space-separated; empty: none sent
	Client       *http.Client
	Timeout      time.Duration    // per token request; 0: 30 s
	Now          func() time.Time // nil: time.Now

	mu  sync.Mutex
	tok Token
}

// expirySkew refreshes a token this long before the vendor's expiry, so a
// request never leaves with a token that dies in flight.
const expirySkew = time.Minute

// Token returns the cached token or fetches a new one.
func (c *ClientCredentials) Token(ctx context.Context) (Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Value != "" && (c.tok.Expiry.IsZero() || c.now().Before(c.tok.Expiry.Add(-expirySkew))) {
		return c.tok, nil
	}
	t, err := c.fetch(ctx)
	if err != nil {
		return Token{}, err
	}
	c.tok = t
	return t, nil
}

// Authorize sets a Bearer token on req.
func (c *ClientCredentials) Authorize(ctx context.Context, req *http.Request) (string, error) {
	t, err := c.Token(ctx)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+t.Value)
	return t.Value, nil
}

// Invalidate drops token if it is the cached one; the next call fetches a
// new one.
func (c *ClientCredentials) Invalidate(token string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Value == token {
		c.tok = Token{}
	}
	return true
}

func (c *ClientCredentials) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *ClientCredentials) fetch(ctx context.Context) (Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	caller := Caller{
		Vendor: c.Vendor, Client: c.Client, Timeout: c.Timeout, Now: c.Now,
		Describe: describeOAuthError,
		Classify: func(status int, code string) Kind {
			switch code {
			case "invalid_client", "invalid_grant", "unauthorized_client", "invalid_scope", "access_denied":
				return KindAuth
			}
			return 0
		},
	}
	res, err := caller.Do(ctx, Request{
		Op: "token", Method: http.MethodPost, URL: c.TokenURL,
		Body:   []byte(form.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}},
	})
	if err != nil {
		return Token{}, err
	}
	var body struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		InstanceURL string          `json:"instance_url"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil || body.AccessToken == "" {
		return Token{}, &Error{Vendor: c.Vendor, Op: "token", Kind: KindRetryable, Status: res.Status,
			Message: "token response has no access_token", Err: err}
	}
	t := Token{Value: body.AccessToken, InstanceURL: body.InstanceURL}
	// expires_in is a number by RFC 6749; some endpoints send it quoted.
	if s := strings.Trim(string(body.ExpiresIn), `"`); s != "" {
		var secs int64
		if _, err := fmt.Sscan(s, &secs); err == nil && secs > 0 {
			t.Expiry = c.now().Add(time.Duration(secs) * time.Second)
		}
	}
	return t, nil
}

// describeOAuthError reads an RFC 6749 §5.2 error response.
func describeOAuthError(b []byte) (string, string) {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	return e.Error, e.Description
}
