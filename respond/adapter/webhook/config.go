package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Config is one receiving endpoint.
type Config struct {
	URL            string         `yaml:"url" doc:"The receiver's URL (https)."`
	Secret         adapter.Secret `yaml:"secret" doc:"The HMAC-SHA256 signing secret shared with the receiver, from a file or the environment."`
	PreviousSecret adapter.Secret `yaml:"previous_secret" doc:"While rotating: the old secret, also signed with so receivers can switch at their own pace."`
	Timeout        time.Duration  `yaml:"timeout" doc:"Bound on each HTTP call."`
}

// DefaultConfig is a config with the defaults filled in.
func DefaultConfig() Config { return Config{Timeout: 10 * time.Second} }

// Validate reports every problem, each prefixed with path.
func (c Config) Validate(path string) error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s.url: an http(s) URL is required, got %q", path, c.URL))
	}
	if err := c.Secret.Validate(path + ".secret"); err != nil {
		errs = append(errs, err)
	}
	if c.PreviousSecret.IsSet() {
		if err := c.PreviousSecret.Validate(path + ".previous_secret"); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive, got %s", path, c.Timeout))
	}
	return errors.Join(errs...)
}
