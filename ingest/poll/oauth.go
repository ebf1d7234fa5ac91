package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// token is what a token endpoint granted.
type token struct {
	access   string
	expiry   time.Time // zero when the endpoint did not say
	instance string    // Salesforce's instance_url
}

// tokenSource hands out an access token, refreshing it before the expiry
// the endpoint announced (HubSpot: expires_in) and when the API said it no
// longer holds (Salesforce sessions end without notice).
type tokenSource struct {
	cfg    *Config
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	tok      token
	refresh  string // the current refresh token (HubSpot may rotate it)
	secret   string
	fixed    bool
	onIssued func()
}

// errNoRefresh is a fixed token the API refused: nothing can be done but
// fixing the configuration.
var errNoRefresh = errors.New("the API refused the configured access token, and no refresh token or client credentials are configured to get another")

func newTokenSource(cfg *Config, client *http.Client, now func() time.Time, onIssued func()) (*tokenSource, error) {
	ts := &tokenSource{cfg: cfg, client: client, now: now, onIssued: onIssued}
	access, err := secret(cfg.Name+".access_token", cfg.AccessTokenFile, cfg.AccessTokenEnv)
	if err != nil {
		return nil, err
	}
	if access != "" {
		ts.tok, ts.fixed = token{access: access, instance: cfg.BaseURL}, true
		return ts, nil
	}
	if ts.secret, err = secret(cfg.Name+".client_secret", cfg.ClientSecretFile, cfg.ClientSecretEnv); err != nil {
		return nil, err
	}
	if ts.refresh, err = secret(cfg.Name+".refresh_token", cfg.RefreshTokenFile, cfg.RefreshTokenEnv); err != nil {
		return nil, err
	}
	return ts, nil
}

// secret reads a credential from a file (trailing line break dropped) or
// the environment; "" when neither is configured. Errors name where, never
// the value.
func secret(where, file, env string) (string, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("%s: %s is empty", where, file)
		}
		return s, nil
	case env != "":
		s := os.Getenv(env)
		if s == "" {
			return "", fmt.Errorf("%s: environment variable %s is empty or unset", where, env)
		}
		return s, nil
	}
	return "", nil
}

// get returns a token valid for at least a minute, as far as the endpoint
// said.
func (ts *tokenSource) get(ctx context.Context) (token, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok.access != "" && (ts.tok.expiry.IsZero() || ts.now().Add(time.Minute).Before(ts.tok.expiry)) {
		return ts.tok, nil
	}
	if ts.fixed {
		return token{}, errNoRefresh
	}
	return ts.fetch(ctx)
}

// expired drops the token the API refused, if it is still the current one,
// so the next get fetches another.
func (ts *tokenSource) expired(access string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok.access == access {
		ts.tok.access = ""
	}
}

// fetch asks the token endpoint for a token (refresh_token grant when a
// refresh token is configured, client_credentials otherwise).
func (ts *tokenSource) fetch(ctx context.Context) (token, error) {
	form := url.Values{"client_id": {ts.cfg.ClientID}, "client_secret": {ts.secret}}
	if ts.refresh != "" {
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", ts.refresh)
	} else {
		form.Set("grant_type", "client_credentials")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return token{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := ts.client.Do(req)
	if err != nil {
		return token{}, fmt.Errorf("oauth token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var r struct {
		AccessToken  string          `json:"access_token"`
		RefreshToken string          `json:"refresh_token"`
		ExpiresIn    json.Number     `json:"expires_in"`
		InstanceURL  string          `json:"instance_url"`
		Error        string          `json:"error"`
		Description  string          `json:"error_description"`
		Message      json.RawMessage `json:"message"`
	}
	_ = json.Unmarshal(body, &r)
	if resp.StatusCode != http.StatusOK || r.AccessToken == "" {
		// The endpoint's error code and description say why (invalid_grant:
		// the refresh token was revoked); they hold no secret.
		return token{}, fmt.Errorf("oauth token endpoint answered %d: %s %s", resp.StatusCode, r.Error, r.Description)
	}
	// A configured base URL wins over Salesforce's instance_url (a proxy,
	// a test stand-in); HubSpot names none.
	t := token{access: r.AccessToken, instance: ts.cfg.BaseURL}
	if t.instance == "" {
		t.instance = r.InstanceURL
	}
	if secs, err := r.ExpiresIn.Int64(); err == nil && secs > 0 {
		t.expiry = ts.now().Add(time.Duration(secs) * time.Second)
	}
	if r.RefreshToken != "" {
		ts.refresh = r.RefreshToken
	}
	ts.tok = t
	if ts.onIssued != nil {
		ts.onIssued()
	}
	return t, nil
}
