package dynamics

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Config is one Dataverse environment and the application user that acts
// on it (an app registration added as an application user with a security
// role that may update systemuser).
type Config struct {
	EnvironmentURL string         `yaml:"environment_url" doc:"The environment's URL (https://acme.crm.dynamics.com)."`
	APIVersion     string         `yaml:"api_version" doc:"Web API version, e.g. 9.2."`
	TenantID       string         `yaml:"tenant_id" doc:"Directory (tenant) id of the app registration."`
	ClientID       string         `yaml:"client_id" doc:"Application (client) id of the app registration."`
	ClientSecret   adapter.Secret `yaml:"client_secret" doc:"Client secret of the app registration, from a file or the environment."`
	TokenURL       string         `yaml:"token_url" doc:"Token endpoint; empty: https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token."`
	Timeout        time.Duration  `yaml:"timeout" doc:"Bound on each HTTP call, token requests included."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config { return Config{APIVersion: "9.2", Timeout: 10 * time.Second} }

var apiVersion = regexp.MustCompile(`^\d\.\d$`)

// Validate reports every problem, each prefixed with path.
func (c Config) Validate(path string) error {
	var errs []error
	if u, err := url.Parse(c.EnvironmentURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s.environment_url: an absolute URL is required, got %q", path, c.EnvironmentURL))
	}
	if !apiVersion.MatchString(c.APIVersion) {
		errs = append(errs, fmt.Errorf("%s.api_version: want a version like 9.2, got %q", path, c.APIVersion))
	}
	if c.TenantID == "" {
		errs = append(errs, fmt.Errorf("%s.tenant_id: required", path))
	}
	if c.ClientID == "" {
		errs = append(errs, fmt.Errorf("%s.client_id: required", path))
	}
	if err := c.ClientSecret.Validate(path + ".client_secret"); err != nil {
		errs = append(errs, err)
	}
	if c.TokenURL != "" {
		if u, err := url.Parse(c.TokenURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s.token_url: must be an absolute URL, got %q", path, c.TokenURL))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}
