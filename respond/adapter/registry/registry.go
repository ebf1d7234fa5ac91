package registry

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"sort"

	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/dynamics"
	"github.com/trailwatch/trailwatch/respond/adapter/email"
	"github.com/trailwatch/trailwatch/respond/adapter/entra"
	"github.com/trailwatch/trailwatch/respond/adapter/okta"
	"github.com/trailwatch/trailwatch/respond/adapter/pagerduty"
	"github.com/trailwatch/trailwatch/respond/adapter/salesforce"
	"github.com/trailwatch/trailwatch/respond/adapter/slack"
	"github.com/trailwatch/trailwatch/respond/adapter/webhook"
)

// Freezer is an adapter that blocks and unblocks accounts and can say
// whether an account is blocked.
type Freezer interface {
	Freeze(ctx context.Context, account string) error
	Unfreeze(ctx context.Context, account string) error
	Frozen(ctx context.Context, account string) (bool, error)
}

// Notifier is an adapter that sends notifications.
type Notifier interface {
	Notify(ctx context.Context, n adapter.Notification) error
}

// Options are what Build passes to every adapter.
type Options struct {
	// HTTPClient is used by every HTTP adapter; nil: a default client
	// (each call is bounded by the adapter's timeout).
	HTTPClient *http.Client
	// SMTPRootCAs, when not nil, replaces the system pool for e-mail
	// (tests pass the SMTP stand-in's).
	SMTPRootCAs *x509.CertPool
}

// Set is the built adapters, by name.
type Set struct {
	Freezers    map[string]Freezer
	Notifiers   map[string]Notifier
	Identifiers map[string]string // freezer name → IdentifierID or IdentifierName
	Kinds       map[string]string
}

// Build validates cfg, loads every secret and builds every adapter. An
// error names the adapter; secrets never appear in it.
func Build(cfg Config, opts Options) (*Set, error) {
	if err := cfg.Validate("adapters"); err != nil {
		return nil, err
	}
	s := &Set{Freezers: map[string]Freezer{}, Notifiers: map[string]Notifier{},
		Identifiers: map[string]string{}, Kinds: map[string]string{}}
	names := make([]string, 0, len(cfg))
	for n := range cfg {
		names = append(names, n)
	}
	sort.Strings(names)
	hc := opts.HTTPClient
	for _, name := range names {
		a := cfg[name]
		var (
			v   any
			err error
		)
		switch a.Kind {
		case KindSalesforce:
			v, err = salesforce.New(*a.Salesforce, hc)
		case KindOkta:
			v, err = okta.New(*a.Okta, hc)
		case KindEntra:
			v, err = entra.New(*a.Entra, hc)
		case KindDynamics:
			v, err = dynamics.New(*a.Dynamics, hc)
		case KindWebhook:
			v, err = webhook.New(*a.Webhook, hc)
		case KindPagerDuty:
			v, err = pagerduty.New(*a.PagerDuty, hc)
		case KindSlack:
			v, err = slack.New(*a.Slack, hc)
		case KindEmail:
			v, err = email.New(*a.Email, opts.SMTPRootCAs)
		}
		if err != nil {
			return nil, fmt.Errorf("adapter %s: %w", name, err)
		}
		s.Kinds[name] = a.Kind
		if f, ok := v.(Freezer); ok && CanFreeze(a.Kind) {
			s.Freezers[name] = f
			s.Identifiers[name] = a.IdentifierOf()
		}
		if n, ok := v.(Notifier); ok && CanNotify(a.Kind) {
			s.Notifiers[name] = n
		}
	}
	return s, nil
}
