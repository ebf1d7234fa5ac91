package registry

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/respond/adapter/dynamics"
	"github.com/trailwatch/trailwatch/respond/adapter/email"
	"github.com/trailwatch/trailwatch/respond/adapter/entra"
	"github.com/trailwatch/trailwatch/respond/adapter/okta"
	"github.com/trailwatch/trailwatch/respond/adapter/pagerduty"
	"github.com/trailwatch/trailwatch/respond/adapter/salesforce"
	"github.com/trailwatch/trailwatch/respond/adapter/slack"
	"github.com/trailwatch/trailwatch/respond/adapter/webhook"
)

// Adapter kinds.
const (
	KindSalesforce = "salesforce"
	KindOkta       = "okta"
	KindEntra      = "entra"
	KindDynamics   = "dynamics365"
	KindWebhook    = "webhook"
	KindPagerDuty  = "pagerduty"
	KindSlack      = "slack"
	KindEmail      = "email"
)

// Identifiers: which action field names the account for a freezer.
const (
	IdentifierID   = "id"   // the action's target (user.id in the CRM)
	IdentifierName = "name" // the action's target_name (the login)
)

// Config is the named adapters: name → adapter.
type Config map[string]Adapter

// Adapter is one configured adapter: its kind and that vendor's settings.
type Adapter struct {
	Kind       string `yaml:"kind" doc:"salesforce, okta, entra, dynamics365, webhook, pagerduty, slack or email."`
	Identifier string `yaml:"identifier" doc:"For freezers, which action field names the account: id (target) or name (target_name). Default: name for okta and entra, id otherwise."`

	Salesforce *salesforce.Config `yaml:"salesforce" doc:"Settings when kind is salesforce."`
	Okta       *okta.Config       `yaml:"okta" doc:"Settings when kind is okta."`
	Entra      *entra.Config      `yaml:"entra" doc:"Settings when kind is entra."`
	Dynamics   *dynamics.Config   `yaml:"dynamics365" doc:"Settings when kind is dynamics365."`
	Webhook    *webhook.Config    `yaml:"webhook" doc:"Settings when kind is webhook."`
	PagerDuty  *pagerduty.Config  `yaml:"pagerduty" doc:"Settings when kind is pagerduty."`
	Slack      *slack.Config      `yaml:"slack" doc:"Settings when kind is slack."`
	Email      *email.Config      `yaml:"email" doc:"Settings when kind is email."`
}

// UnmarshalYAML starts the kind's section from that vendor's
// DefaultConfig, so a file states only what differs.
func (a *Adapter) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Kind string `yaml:"kind"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	type plain Adapter
	p := plain(Defaults(head.Kind))
	if err := n.Decode(&p); err != nil {
		return err
	}
	// Node.Decode forgets the caller's KnownFields: check for misspelt
	// settings here, so a typo in a vendor section is an error too.
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	strict := yaml.NewDecoder(bytes.NewReader(b))
	strict.KnownFields(true)
	var check plain
	if err := strict.Decode(&check); err != nil {
		return fmt.Errorf("adapter at line %d: %w", n.Line, err)
	}
	*a = Adapter(p)
	return nil
}

// Defaults is an adapter of kind with its vendor section at defaults.
func Defaults(kind string) Adapter {
	a := Adapter{Kind: kind}
	switch kind {
	case KindSalesforce:
		c := salesforce.DefaultConfig()
		a.Salesforce = &c
	case KindOkta:
		c := okta.DefaultConfig()
		a.Okta = &c
	case KindEntra:
		c := entra.DefaultConfig()
		a.Entra = &c
	case KindDynamics:
		c := dynamics.DefaultConfig()
		a.Dynamics = &c
	case KindWebhook:
		c := webhook.DefaultConfig()
		a.Webhook = &c
	case KindPagerDuty:
		c := pagerduty.DefaultConfig()
		a.PagerDuty = &c
	case KindSlack:
		c := slack.DefaultConfig()
		a.Slack = &c
	case KindEmail:
		c := email.DefaultConfig()
		a.Email = &c
	}
	return a
}

// CanFreeze reports whether adapters of kind freeze accounts.
func CanFreeze(kind string) bool {
	switch kind {
	case KindSalesforce, KindOkta, KindEntra, KindDynamics, KindWebhook:
		return true
	}
	return false
}

// CanNotify reports whether adapters of kind send notifications.
func CanNotify(kind string) bool {
	switch kind {
	case KindPagerDuty, KindSlack, KindEmail, KindWebhook:
		return true
	}
	return false
}

// IdentifierOf is the identifier in force for a: the configured one, or
// the kind's default (identity providers address users by login).
func (a Adapter) IdentifierOf() string {
	if a.Identifier != "" {
		return a.Identifier
	}
	if a.Kind == KindOkta || a.Kind == KindEntra {
		return IdentifierName
	}
	return IdentifierID
}

// Validate reports every problem, each prefixed with path (e.g.
// "respond.adapters").
func (c Config) Validate(path string) error {
	var errs []error
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		a := c[name]
		p := path + "." + name
		if name == "" {
			errs = append(errs, fmt.Errorf("%s: adapter names must not be empty", path))
		}
		if a.Identifier != "" && a.Identifier != IdentifierID && a.Identifier != IdentifierName {
			errs = append(errs, fmt.Errorf("%s.identifier: want id or name, got %q", p, a.Identifier))
		}
		sections := a.sections()
		for k, set := range sections {
			if set && k != a.Kind {
				errs = append(errs, fmt.Errorf("%s.%s: set, but kind is %q", p, k, a.Kind))
			}
		}
		if _, known := sections[a.Kind]; !known {
			errs = append(errs, fmt.Errorf("%s.kind: want one of salesforce, okta, entra, dynamics365, webhook, pagerduty, slack, email; got %q", p, a.Kind))
			continue
		}
		if !sections[a.Kind] {
			errs = append(errs, fmt.Errorf("%s.%s: settings for kind %s are required", p, a.Kind, a.Kind))
			continue
		}
		var err error
		sp := p + "." + a.Kind
		switch a.Kind {
		case KindSalesforce:
			err = a.Salesforce.Validate(sp)
		case KindOkta:
			err = a.Okta.Validate(sp)
		case KindEntra:
			err = a.Entra.Validate(sp)
		case KindDynamics:
			err = a.Dynamics.Validate(sp)
		case KindWebhook:
			err = a.Webhook.Validate(sp)
		case KindPagerDuty:
			err = a.PagerDuty.Validate(sp)
		case KindSlack:
			err = a.Slack.Validate(sp)
		case KindEmail:
			err = a.Email.Validate(sp)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a Adapter) sections() map[string]bool {
	return map[string]bool{
		KindSalesforce: a.Salesforce != nil, KindOkta: a.Okta != nil, KindEntra: a.Entra != nil,
		KindDynamics: a.Dynamics != nil, KindWebhook: a.Webhook != nil, KindPagerDuty: a.PagerDuty != nil,
		KindSlack: a.Slack != nil, KindEmail: a.Email != nil,
	}
}
