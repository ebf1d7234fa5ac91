package entra

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Config is one Entra ID directory (tenant) and the app registration that
// acts on it (application permissions User.EnableDisableAccount.All and
// User.RevokeSessions.All, admin-consented).
type Config struct {
	TenantID       string         `yaml:"tenant_id" doc:"Directory (tenant) id or domain."`
	ClientID       string         `yaml:"client_id" doc:"Application (client) id of the app registration."`
	ClientSecret   adapter.Secret `yaml:"client_secret" doc:"Client secret of the app registration, from a file or the environment."`
	TokenURL       string         `yaml:"token_url" doc:"Token endpoint; empty: https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token."`
	GraphURL       string         `yaml:"graph_url" doc:"Microsoft Graph base URL including the version."`
	RevokeSessions bool           `yaml:"revoke_sessions" doc:"Also revoke the user's sign-in sessions when freezing."`
	Timeout        time.Duration  `yaml:"timeout" doc:"Bound on each HTTP call, token requests included."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config {
	return Config{GraphURL: "https://graph.microsoft.com/v1.0", RevokeSessions: true, Timeout: 10 * time.Second}
}

// Validate reports every problem, each prefixed with path.
func (c Config) Validate(path string) error {
	var errs []error
	if c.TenantID == "" {
		errs = append(errs, fmt.Errorf("%s.tenant_id: required", path))
	}
	if c.ClientID == "" {
		errs = append(errs, fmt.Errorf("%s.client_id: required", path))
	}
	if err := c.ClientSecret.Validate(path + ".client_secret"); err != nil {
		errs = append(errs, err)
	}
	for name, v := range map[string]string{"token_url": c.TokenURL, "graph_url": c.GraphURL} {
		if v == "" && name == "token_url" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s.%s: an absolute URL is required, got %q", path, name, v))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}
