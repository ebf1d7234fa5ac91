package respond_test

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

const exampleYAML = `
adapters:
  sf-acme:
    kind: salesforce
    salesforce:
      login_url: https://acme.my.salesforce.com
      client_id: 3MVG9
      client_secret: {file: /run/secrets/sf-acme}
  okta-acme:
    kind: okta
    okta:
      org_url: https://acme.okta.com
      api_token: {env: OKTA_ACME_TOKEN}
  pd-secops:
    kind: pagerduty
    pagerduty:
      routing_key: {file: /run/secrets/pd-secops}
tenants:
  acme:
    freeze: [sf-acme, okta-acme]
    notify: [pd-secops]
    oncall: [pd-secops]
    protected:
      account_ids: [005000000000BRK]
    breaker: {max_actions: 5, window: 30m}
rules:
  credential-stuffing: {mode: enforce, version: "3"}
  bulk-export: {mode: approval}
protected:
  name_patterns: ["breakglass-*"]
`

func TestConfigFromYAML(t *testing.T) {
	cfg := respond.DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(exampleYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if cfg.NewRuleMode != alert.ModeDryRun || cfg.Retry.MaxAttempts != 5 || cfg.Tenants["acme"].Breaker.Window != 30*time.Minute ||
		cfg.Adapters["sf-acme"].Salesforce.APIVersion != "62.0" || cfg.Protected.Unknown != respond.UnknownApproval ||
		len(cfg.Protected.UserTypes) != 2 {
		t.Fatalf("defaults lost: %+v", cfg)
	}
}

func TestConfigValidateNamesEverySetting(t *testing.T) {
	cfg := respond.DefaultConfig()
	cfg.Adapters = registry.Config{"pd": registry.Defaults(registry.KindPagerDuty)}
	cfg.Adapters["pd"].PagerDuty.RoutingKey.Env = "X"
	cfg.NewRuleMode = "yolo"
	cfg.Rules = map[string]respond.Rule{"r1": {Mode: "later"}}
	cfg.Protected.NamePatterns = []string{"[unclosed"}
	cfg.Breaker.MaxActions = 0
	cfg.Retry.MaxAttempts = 0
	cfg.Tenants = map[string]respond.Tenant{"acme": {
		Mode: "sometimes", Freeze: []string{"pd", "missing"}, OnCall: []string{"nobody"},
		Breaker: &respond.Breaker{MaxActions: 1}, Protected: respond.Protected{Unknown: "maybe"},
	}}
	err := cfg.Validate()
	for _, want := range []string{
		`respond.new_rule_mode: want enforce, approval or dry_run, got "yolo"`,
		"respond.rules.r1.mode",
		"respond.protected.name_patterns[0]",
		"respond.breaker.max_actions",
		"respond.retry.max_attempts",
		"respond.tenants.acme.mode",
		`respond.tenants.acme.freeze[0]: adapter "pd" is a pagerduty, which never freezes accounts`,
		`respond.tenants.acme.freeze[1]: no adapter named "missing"`,
		`respond.tenants.acme.oncall[0]: no adapter named "nobody"`,
		"respond.tenants.acme.breaker.window",
		"respond.tenants.acme.protected.unknown",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() is missing %q\n%v", want, err)
		}
	}
	if err := (respond.Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "respond.tenants: at least one tenant") {
		t.Errorf("empty config: %v", err)
	}
}
