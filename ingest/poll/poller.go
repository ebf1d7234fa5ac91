package poll

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/checkpoint"
)

// Poller reads one vendor API into Kafka from a stored cursor.
type Poller struct {
	cfg   Config
	pub   *ingest.Publisher
	store *checkpoint.Store
	log   zerolog.Logger
	m     *metrics
	c     *client
	now   func() time.Time
	impl  interface {
		catchUp(ctx context.Context) error
	}
	// saved is called after each checkpoint save (tests stop the poller
	// there).
	saved func()
}

// New builds the poller cfg describes (defaults applied), reading its
// credentials now so a missing one fails at start.
func New(cfg Config, pub *ingest.Publisher, store *checkpoint.Store, log zerolog.Logger, reg prometheus.Registerer) (*Poller, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate("ingest.pollers[" + cfg.Name + "]"); err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	p := &Poller{cfg: cfg, pub: pub, store: store, m: m, now: time.Now,
		log: log.With().Str("component", "ingest-poll").Str("source", cfg.Name).Str("vendor", cfg.Vendor).Logger()}
	hc := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
	}}
	refreshes := m.refreshes.WithLabelValues(cfg.Name)
	tokens, err := newTokenSource(&p.cfg, hc, func() time.Time { return p.now() }, refreshes.Inc)
	if err != nil {
		return nil, err
	}
	p.c = &client{cfg: &p.cfg, http: hc, tokens: tokens, m: m, log: p.log, now: func() time.Time { return p.now() }}
	switch cfg.Vendor {
	case VendorSalesforceELF:
		sf, err := newSalesforce(p)
		if err != nil {
			return nil, err
		}
		p.impl = sf
	case VendorHubSpotAudit:
		hs, err := newHubSpot(p)
		if err != nil {
			return nil, err
		}
		p.impl = hs
	}
	return p, nil
}

// Name is the poller's source name.
func (p *Poller) Name() string { return p.cfg.Name }

func (p *Poller) checkpointName() string { return "poll-" + p.cfg.Name }

// Run polls until ctx ends: it catches up with the API, waits Interval,
// and again. A poll that fails is logged and retried at the next interval
// from the saved cursor; the cursor is locked against a second process.
func (p *Poller) Run(ctx context.Context) error {
	unlock, err := p.store.Lock(p.checkpointName())
	if err != nil {
		return err
	}
	defer unlock()
	p.log.Info().Dur("interval", p.cfg.Interval).Msg("polling")
	for {
		if err := p.impl.catchUp(ctx); err != nil && ctx.Err() == nil {
			p.m.failures.WithLabelValues(p.cfg.Name).Inc()
			p.log.Error().Err(err).Msg("poll failed; retrying at the next interval from the saved cursor")
		}
		if err := sleep(ctx, p.cfg.Interval); err != nil {
			return nil
		}
	}
}

// CatchUp polls once, until the API has nothing newer, and returns.
func (p *Poller) CatchUp(ctx context.Context) error {
	unlock, err := p.store.Lock(p.checkpointName())
	if err != nil {
		return err
	}
	defer unlock()
	return p.impl.catchUp(ctx)
}

// save stores the cursor; only after a publish was acknowledged.
func (p *Poller) save(cursor any, at time.Time) error {
	if err := p.store.Save(p.checkpointName(), cursor); err != nil {
		return err
	}
	if !at.IsZero() {
		p.m.cursor.WithLabelValues(p.cfg.Name).Set(float64(at.UnixMilli()) / 1000)
	}
	if p.saved != nil {
		p.saved()
	}
	return nil
}

// publish makes b durable, retrying (with backoff, up to MaxWait) while
// Kafka refuses: the cursor must not pass what Kafka does not hold. The
// batch in hand when ctx ends still gets a minute to go out.
func (p *Poller) publish(ctx context.Context, b *ingest.Batch) error {
	backoff := p.cfg.RetryBackoff
	for {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		err := p.pub.Publish(pctx, b)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("publishing: %w", err)
		}
		p.log.Warn().Err(err).Dur("retry_in", backoff).Msg("kafka did not acknowledge a batch; retrying")
		if err := sleep(ctx, backoff); err != nil {
			return fmt.Errorf("publishing: %w", err)
		}
		backoff = min(2*backoff, p.cfg.MaxWait)
	}
}
