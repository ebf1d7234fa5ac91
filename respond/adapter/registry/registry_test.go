package registry_test

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/fakes"
)

func TestYAMLStartsFromVendorDefaults(t *testing.T) {
	var cfg registry.Config
	err := yaml.Unmarshal([]byte(`
sf-acme:
  kind: salesforce
  salesforce:
    login_url: https://acme.my.salesforce.com
    client_id: key
    client_secret: {file: /run/secrets/sf}
okta-acme:
  kind: okta
  okta:
    org_url: https://acme.okta.com
    api_token: {env: OKTA_TOKEN}
    timeout: 3s
`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	sf := cfg["sf-acme"].Salesforce
	if sf == nil || sf.APIVersion != "62.0" || sf.Auth != "client_credentials" || sf.Timeout != 10*time.Second || sf.ClientSecret.File != "/run/secrets/sf" {
		t.Fatalf("salesforce %+v", sf)
	}
	if o := cfg["okta-acme"].Okta; o == nil || o.Timeout != 3*time.Second || o.Auth != "ssws" {
		t.Fatalf("okta %+v", o)
	}
	if err := cfg.Validate("respond.adapters"); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if cfg["okta-acme"].IdentifierOf() != registry.IdentifierName || cfg["sf-acme"].IdentifierOf() != registry.IdentifierID {
		t.Fatal("default identifiers")
	}
}

func TestYAMLRejectsMisspeltSettings(t *testing.T) {
	var cfg registry.Config
	err := yaml.Unmarshal([]byte(`
sf:
  kind: salesforce
  salesforce:
    login_url: https://acme.my.salesforce.com
    clientid: key
`), &cfg)
	if err == nil || !strings.Contains(err.Error(), "field clientid not found") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	cfg := registry.Config{
		"a": {Kind: "salesforce"},
		"b": {Kind: "pager"},
		"c": registry.Defaults(registry.KindSlack),
		"d": {Kind: "okta", Identifier: "email", Slack: registry.Defaults(registry.KindSlack).Slack},
	}
	err := cfg.Validate("respond.adapters")
	for _, want := range []string{
		"respond.adapters.a.salesforce: settings for kind salesforce are required",
		"respond.adapters.b.kind",
		"respond.adapters.c.slack.webhook_url",
		"respond.adapters.d.identifier",
		"respond.adapters.d.slack: set, but kind is \"okta\"",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v\nmissing %s", err, want)
		}
	}
}

func TestBuild(t *testing.T) {
	pd := fakes.NewPagerDuty(t, "key")
	wh := fakes.NewWebhookReceiver(t, "s")
	t.Setenv("TW_TEST_PD", "key")
	t.Setenv("TW_TEST_WH", "s")
	p := registry.Defaults(registry.KindPagerDuty)
	p.PagerDuty.EventsURL = pd.EventsURL()
	p.PagerDuty.RoutingKey.Env = "TW_TEST_PD"
	w := registry.Defaults(registry.KindWebhook)
	w.Webhook.URL = wh.URL()
	w.Webhook.Secret.Env = "TW_TEST_WH"
	set, err := registry.Build(registry.Config{"pd": p, "inhouse": w}, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := set.Notifiers["pd"]; !ok {
		t.Fatal("pagerduty is not a notifier")
	}
	if _, ok := set.Freezers["pd"]; ok {
		t.Fatal("pagerduty is a freezer")
	}
	if _, ok := set.Freezers["inhouse"]; !ok || set.Identifiers["inhouse"] != registry.IdentifierID {
		t.Fatal("webhook is not a freezer")
	}
	if _, ok := set.Notifiers["inhouse"]; !ok {
		t.Fatal("webhook is not a notifier")
	}

	t.Setenv("TW_TEST_PD", "")
	if _, err := registry.Build(registry.Config{"pd": p}, registry.Options{}); err == nil || !strings.Contains(err.Error(), "adapter pd") {
		t.Fatalf("missing secret: %v", err)
	}
}
