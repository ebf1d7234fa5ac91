package salesforce

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Config is one Salesforce org.
type Config struct {
	LoginURL     string         `yaml:"login_url" doc:"The org's My Domain URL, where the token endpoint lives (https://acme.my.salesforce.com)."`
	InstanceURL  string         `yaml:"instance_url" doc:"REST API base URL; empty uses the instance_url of the token response."`
	APIVersion   string         `yaml:"api_version" doc:"REST API version, e.g. 62.0 (UserLogin needs 29.0 or later)."`
	Auth         string         `yaml:"auth" doc:"OAuth flow: client_credentials (the JWT bearer flow is documented in docs/RESPONSE.md, not implemented)."`
	ClientID     string         `yaml:"client_id" doc:"Consumer key of the external client app."`
	ClientSecret adapter.Secret `yaml:"client_secret" doc:"Consumer secret of the external client app, from a file or the environment."`
	Timeout      time.Duration  `yaml:"timeout" doc:"Bound on each HTTP call, token requests included."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config {
	return Config{APIVersion: "62.0", Auth: "client_credentials", Timeout: 10 * time.Second}
}

var apiVersion = regexp.MustCompile(`^\d{2,3}\.\d$`)

// Validate reports every problem, each prefixed with path (the setting's
// place in the file).
func (c Config) Validate(path string) error {
	var errs []error
	if u, err := url.Parse(c.LoginURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s.login_url: an absolute URL is required, got %q", path, c.LoginURL))
	}
	if c.InstanceURL != "" {
		if u, err := url.Parse(c.InstanceURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s.instance_url: must be an absolute URL, got %q", path, c.InstanceURL))
		}
	}
	if !apiVersion.MatchString(c.APIVersion) {
		errs = append(errs, fmt.Errorf("%s.api_version: want a version like 62.0, got %q", path, c.APIVersion))
	}
	if c.Auth != "client_credentials" {
		errs = append(errs, fmt.Errorf("%s.auth: only client_credentials is implemented, got %q", path, c.Auth))
	}
	if c.ClientID == "" {
		errs = append(errs, fmt.Errorf("%s.client_id: required", path))
	}
	if err := c.ClientSecret.Validate(path + ".client_secret"); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}
