package poll

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
)

// Vendors a poller can read.
const (
	VendorSalesforceELF = "salesforce-elf"
	VendorHubSpotAudit  = "hubspot-audit"
)

// elfFormats maps the Event Log File event types a poller reads to their
// normaliser formats.
var elfFormats = map[string]string{
	"Login": "salesforce-elf-login", "ReportExport": "salesforce-elf-reportexport",
	"API": "salesforce-elf-api", "URI": "salesforce-elf-uri",
}

// Config is one poller. Its name, tenant and backfill come from
// ingest.Source (the format follows from the vendor); credentials come from
// files or the environment, never from the configuration itself.
type Config struct {
	ingest.Source `yaml:",inline"`
	Vendor        string        `yaml:"vendor" doc:"salesforce-elf or hubspot-audit."`
	Interval      time.Duration `yaml:"interval" doc:"Time between polls once caught up."`
	Start         time.Duration `yaml:"start" doc:"With no checkpoint yet, how far back the first poll begins."`

	BaseURL          string `yaml:"base_url" doc:"API root: HubSpot's https://api.hubapi.com; for Salesforce the instance URL the token endpoint returns, unless set."`
	TokenURL         string `yaml:"token_url" doc:"OAuth 2 token endpoint (Salesforce https://login.salesforce.com/services/oauth2/token, HubSpot https://api.hubapi.com/oauth/v1/token)."`
	ClientID         string `yaml:"client_id" doc:"OAuth client id."`
	ClientSecretFile string `yaml:"client_secret_file" doc:"File holding the OAuth client secret."`
	ClientSecretEnv  string `yaml:"client_secret_env" doc:"Environment variable holding the OAuth client secret."`
	RefreshTokenFile string `yaml:"refresh_token_file" doc:"File holding the OAuth refresh token (refresh_token grant); without one the client_credentials grant is used."`
	RefreshTokenEnv  string `yaml:"refresh_token_env" doc:"Environment variable holding the refresh token."`
	AccessTokenFile  string `yaml:"access_token_file" doc:"File holding a fixed access token (a HubSpot private app), instead of OAuth."`
	AccessTokenEnv   string `yaml:"access_token_env" doc:"Environment variable holding a fixed access token."`

	APIVersion  string   `yaml:"api_version" doc:"Salesforce REST API version, e.g. v60.0."`
	EventTypes  []string `yaml:"event_types" doc:"Salesforce event types to read: Login, ReportExport, API, URI."`
	LogInterval string   `yaml:"log_interval" doc:"Salesforce log files to read: Hourly or Daily."`

	PageSize    int           `yaml:"page_size" doc:"HubSpot records per page (limit)."`
	SettleDelay time.Duration `yaml:"settle_delay" doc:"HubSpot: windows end this long before now, so records that appear late in the API are not skipped."`
	Window      time.Duration `yaml:"window" doc:"HubSpot: the longest time window read with one set of cursors."`

	BatchSize        int           `yaml:"batch_size" doc:"Records published per batch (the cursor advances batch by batch)."`
	RequestTimeout   time.Duration `yaml:"request_timeout" doc:"Time allowed for one API request."`
	MaxAttempts      int           `yaml:"max_attempts" doc:"Attempts of a request that fails (network, 5xx) before the poll gives up until the next interval."`
	RetryBackoff     time.Duration `yaml:"retry_backoff" doc:"First wait before retrying a failed request; doubles each attempt."`
	RateLimitBackoff time.Duration `yaml:"rate_limit_backoff" doc:"Wait after a rate limit whose answer names no wait (Salesforce REQUEST_LIMIT_EXCEEDED); doubles while it lasts."`
	MaxWait          time.Duration `yaml:"max_wait" doc:"Longest single wait on a rate limit or error."`
	MaxAPIUsage      float64       `yaml:"max_api_usage" doc:"Salesforce: pause polling until the next interval when Sforce-Limit-Info says this fraction of the org's daily API requests is used."`
}

// WithDefaults fills what c leaves unset with the vendor's defaults.
func (c Config) WithDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.Start, 24*time.Hour)
	set(&c.RequestTimeout, time.Minute)
	set(&c.RetryBackoff, time.Second)
	set(&c.RateLimitBackoff, time.Minute)
	set(&c.MaxWait, 30*time.Minute)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	switch c.Vendor {
	case VendorSalesforceELF:
		set(&c.Interval, 15*time.Minute)
		if c.TokenURL == "" {
			c.TokenURL = "https://login.salesforce.com/services/oauth2/token"
		}
		if c.APIVersion == "" {
			c.APIVersion = "v60.0"
		}
		if len(c.EventTypes) == 0 {
			c.EventTypes = []string{"Login", "ReportExport", "API", "URI"}
		}
		if c.LogInterval == "" {
			c.LogInterval = "Hourly"
		}
		if c.MaxAPIUsage == 0 {
			c.MaxAPIUsage = 0.9
		}
	case VendorHubSpotAudit:
		set(&c.Interval, time.Minute)
		set(&c.SettleDelay, 2*time.Minute)
		set(&c.Window, 24*time.Hour)
		if c.BaseURL == "" {
			c.BaseURL = "https://api.hubapi.com"
		}
		if c.TokenURL == "" {
			c.TokenURL = "https://api.hubapi.com/oauth/v1/token"
		}
		if c.PageSize == 0 {
			c.PageSize = 100
		}
	}
	return c
}

// Validate reports every problem of c (with defaults applied) at once.
func (c Config) Validate(where string) error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", where, setting, fmt.Sprintf(format, args...)))
	}
	src := c.Source
	src.Format = ""
	if err := src.Validate(where); err != nil {
		errs = append(errs, err)
	}
	if c.Format != "" {
		bad("format", "a poller's format follows from its vendor; leave it empty")
	}
	if c.Tenant == "" {
		bad("tenant", "required (vendor records name no tenant)")
	}
	switch c.Vendor {
	case VendorSalesforceELF:
		for _, t := range c.EventTypes {
			if _, ok := elfFormats[t]; !ok {
				bad("event_types", "%q is not one of Login, ReportExport, API, URI", t)
			}
		}
		if c.LogInterval != "Hourly" && c.LogInterval != "Daily" {
			bad("log_interval", "%q is not Hourly or Daily", c.LogInterval)
		}
		if c.MaxAPIUsage <= 0 || c.MaxAPIUsage > 1 {
			bad("max_api_usage", "must be in (0, 1], got %v", c.MaxAPIUsage)
		}
	case VendorHubSpotAudit:
		if c.PageSize < 1 || c.PageSize > 100 {
			bad("page_size", "must be 1 to 100, got %d", c.PageSize)
		}
		if c.Window <= 0 || c.SettleDelay < 0 {
			bad("window", "window must be positive and settle_delay not negative")
		}
	default:
		bad("vendor", "%q is not one of %s, %s", c.Vendor, VendorSalesforceELF, VendorHubSpotAudit)
	}
	for name, u := range map[string]string{"base_url": c.BaseURL, "token_url": c.TokenURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Host == "" || !slices.Contains([]string{"http", "https"}, p.Scheme) {
			bad(name, "%q is not an http(s) URL", u)
		}
	}
	fixed := c.AccessTokenFile != "" || c.AccessTokenEnv != ""
	oauth := c.ClientID != "" || c.ClientSecretFile != "" || c.ClientSecretEnv != "" || c.RefreshTokenFile != "" || c.RefreshTokenEnv != ""
	switch {
	case fixed && oauth:
		bad("access_token_file", "a fixed access token and OAuth client credentials are exclusive")
	case !fixed && (c.ClientID == "" || c.ClientSecretFile == "" && c.ClientSecretEnv == ""):
		bad("client_id", "OAuth needs client_id and a client secret (or give a fixed access token)")
	}
	if c.Vendor == VendorSalesforceELF && fixed && c.BaseURL == "" {
		bad("base_url", "a fixed Salesforce access token needs the instance URL")
	}
	if c.Interval <= 0 || c.Start <= 0 || c.RequestTimeout <= 0 || c.RetryBackoff <= 0 || c.RateLimitBackoff <= 0 || c.MaxWait <= 0 {
		bad("interval", "interval, start, request_timeout, retry_backoff, rate_limit_backoff and max_wait must be positive")
	}
	if c.BatchSize < 1 || c.MaxAttempts < 1 {
		bad("batch_size", "batch_size and max_attempts must be at least 1")
	}
	return errors.Join(errs...)
}
