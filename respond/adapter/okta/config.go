package okta

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Config is one Okta org.
type Config struct {
	OrgURL   string         `yaml:"org_url" doc:"The org's URL (https://acme.okta.com)."`
	Auth     string         `yaml:"auth" doc:"Authentication: ssws (an API token). OAuth 2.0 for Okta service apps (private_key_jwt, DPoP) is documented in docs/RESPONSE.md, not implemented."`
	APIToken adapter.Secret `yaml:"api_token" doc:"The SSWS API token of an admin with the user lifecycle permission, from a file or the environment."`
	Timeout  time.Duration  `yaml:"timeout" doc:"Bound on each HTTP call."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config { return Config{Auth: "ssws", Timeout: 10 * time.Second} }

// Validate reports every problem, each prefixed with path.
func (c Config) Validate(path string) error {
	var errs []error
	if u, err := url.Parse(c.OrgURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s.org_url: an absolute URL is required, got %q", path, c.OrgURL))
	}
	if c.Auth != "ssws" {
		errs = append(errs, fmt.Errorf("%s.auth: only ssws is implemented, got %q", path, c.Auth))
	}
	if err := c.APIToken.Validate(path + ".api_token"); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}
