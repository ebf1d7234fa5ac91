package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/httpin"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/simulate"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/respond"
	"github.com/trailwatch/trailwatch/respond/adapter"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/adapter/webhook"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// demoSource names the ingest source the demo's simulator sends as.
const demoSource = "demo"

// demo is trailwatch run --demo: a live simulation (the rule pack's
// attacks among ordinary CRM work) sent to the HTTP collector like any
// other source, a local webhook receiver standing in for the CRM's freeze
// endpoint, and a status line that reads what reached ClickHouse.
type demo struct {
	out     io.Writer
	token   string
	sim     *simulate.Simulation
	hook    net.Listener
	hookHit atomic.Int64
}

// setupDemo prepares cfg for the demo: a bearer token (a new one per run,
// in data_dir/demo), the source it authenticates, the detector settings
// for the simulated tenants' calendars, and, unless respond adapters are
// configured, a webhook adapter to the demo's receiver for freezes and
// notifications. The responder's own defaults stay in force: actions of
// rules nobody reviewed run in dry_run.
func setupDemo(cfg *Config, out io.Writer) (*demo, error) {
	dir := filepath.Join(cfg.DataDir, "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &demo{out: out}
	var err error
	if d.token, err = newSecretFile(filepath.Join(dir, "ingest.token")); err != nil {
		return nil, err
	}
	cfg.Ingest.HTTP.Sources = append(cfg.Ingest.HTTP.Sources, httpin.SourceConfig{
		Source:    ingest.Source{Name: demoSource, Format: ingest.FormatCanonical},
		TokenFile: filepath.Join(dir, "ingest.token"),
	})

	scfg := simulate.DefaultConfig()
	scfg.Live, scfg.Days, scfg.History = true, 0, 2*24*time.Hour
	scfg.Start = time.Now().UTC().Truncate(time.Second)
	if d.sim, err = simulate.New(scfg); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if cfg.Detect.EngineConfig == "" {
		p := filepath.Join(dir, "detect.yaml")
		if err := os.WriteFile(p, d.sim.DetectConfig(), 0o600); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		cfg.Detect.EngineConfig = p
	}

	if len(cfg.Respond.Core.Adapters) == 0 {
		secret := filepath.Join(dir, "webhook.secret")
		if _, err := newSecretFile(secret); err != nil {
			return nil, err
		}
		if d.hook, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("demo webhook receiver: %w", err)
		}
		wh := webhook.DefaultConfig()
		wh.URL = "http://" + d.hook.Addr().String() + "/trailwatch"
		wh.Secret = adapter.Secret{File: secret}
		cfg.Respond.Core.Adapters = registry.Config{"demo-crm": {Kind: registry.KindWebhook, Webhook: &wh}}
		if cfg.Respond.Core.Tenants == nil {
			cfg.Respond.Core.Tenants = map[string]respond.Tenant{}
		}
		cfg.Respond.Core.Tenants["*"] = respond.Tenant{Freeze: []string{"demo-crm"}, Notify: []string{"demo-crm"}, Webhooks: []string{"demo-crm"}}
	}
	return d, nil
}

// newSecretFile writes 32 random bytes, hex-encoded, to path (0600) and
// returns them.
func newSecretFile(path string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return s, nil
}

// role runs the simulator into the collector, the webhook receiver and
// the status printer until ctx ends.
func (d *demo) role(ctx context.Context, cfg *Config, log zerolog.Logger, _ prometheus.Registerer, _ *telemetry.Server) error {
	g, gctx := errgroup.WithContext(ctx)
	if d.hook != nil {
		srv := &http.Server{Handler: http.HandlerFunc(d.receive), ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(d.hook); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			return srv.Close()
		})
	}
	accepted := &atomic.Int64{}
	g.Go(func() error { return d.feed(gctx, cfg, log, accepted) })
	g.Go(func() error { return d.report(gctx, cfg, log, accepted) })
	return g.Wait()
}

// feed sends the simulation to the collector once it answers.
func (d *demo) feed(ctx context.Context, cfg *Config, log zerolog.Logger, accepted *atomic.Int64) error {
	url := "http://" + cfg.Ingest.HTTP.Listen + "/v1/events"
	if err := waitHTTP(ctx, "http://"+cfg.Ingest.HTTP.Listen+"/readyz"); err != nil {
		return err
	}
	hs, err := simulate.NewHTTPSink(simulate.HTTPConfig{URL: url, Token: d.token})
	if err != nil {
		return err
	}
	pub := simulate.NewPublisher(hs, &simulate.Pacer{Live: true}, 500)
	emit := func(e *event.Event) error {
		err := pub.Emit(ctx, e)
		accepted.Store(int64(hs.Accepted()))
		return err
	}
	_, runErr := d.sim.Run(ctx, emit, func(*simulate.Label) error { return nil })
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := pub.Close(cctx); err != nil && runErr == nil {
		runErr = err
	}
	accepted.Store(int64(hs.Accepted()))
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		log.Error().Err(runErr).Msg("demo simulator stopped")
		return runErr
	}
	return nil
}

// waitHTTP polls url until it answers 200 or ctx ends.
func waitHTTP(ctx context.Context, url string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// receive is the stand-in CRM endpoint the webhook adapter calls.
func (d *demo) receive(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	d.hookHit.Add(1)
	w.WriteHeader(http.StatusOK)
}

// report prints every new alert and, every ten seconds, what ClickHouse
// holds: events (each id once), alerts and the actions' latest states.
func (d *demo) report(ctx context.Context, cfg *Config, log zerolog.Logger, accepted *atomic.Int64) error {
	st, err := chstore.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(d.out, "Demo: simulated CRM activity (two days of history, then live, with an attack of every kind in the first minutes) is going to the HTTP collector. Alerts appear below as the detector raises them and the sink stores them.")
	seen := &alertCursor{ids: map[string]bool{}}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	last := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := d.printAlerts(ctx, st, seen); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("demo: reading alerts")
		}
		if time.Since(last) >= 10*time.Second {
			last = time.Now()
			if err := d.printStatus(ctx, st, accepted.Load()); err != nil && ctx.Err() == nil {
				log.Warn().Err(err).Msg("demo: reading status")
			}
		}
	}
}

// alertCursor is how far printAlerts has read: the newest ingest time
// seen (the next read starts there, so alerts stored in that millisecond
// after the read are not missed) and the ids printed (an alert the
// detector delivers again is stored again, later, and printed once).
type alertCursor struct {
	at  time.Time
	ids map[string]bool
}

// printAlerts prints the alerts stored since the cursor, each once.
func (d *demo) printAlerts(ctx context.Context, st *chstore.Store, cur *alertCursor) error {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"since": strconv.FormatInt(cur.at.UnixMilli(), 10)}))
	rows, err := st.Query(qctx, `SELECT id, severity, rule_id, tenant, subject, summary, ingested_at
		FROM alerts FINAL WHERE ingested_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
		ORDER BY ingested_at, detected_at, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, sev, rule, tenant, subject, summary string
		var at time.Time
		if err := rows.Scan(&id, &sev, &rule, &tenant, &subject, &summary, &at); err != nil {
			return err
		}
		if cur.ids[id] {
			continue
		}
		if at.After(cur.at) {
			cur.at = at
		}
		cur.ids[id] = true
		fmt.Fprintf(d.out, "ALERT %-8s %-40s %s/%s: %s\n", sev, rule, tenant, subject, summary)
	}
	return rows.Err()
}

func (d *demo) printStatus(ctx context.Context, st *chstore.Store, accepted int64) error {
	var events, alerts uint64
	if err := st.Conn().QueryRow(ctx, `SELECT count() FROM (SELECT id FROM audit_events LIMIT 1 BY id)`).Scan(&events); err != nil {
		return err
	}
	if err := st.Conn().QueryRow(ctx, `SELECT count() FROM alerts FINAL`).Scan(&alerts); err != nil {
		return err
	}
	rows, err := st.Query(ctx, `SELECT mode, status, count() FROM
		(SELECT argMax(mode, recorded_at) AS mode, argMax(status, recorded_at) AS status FROM actions GROUP BY id)
		GROUP BY mode, status ORDER BY mode, status`)
	if err != nil {
		return err
	}
	defer rows.Close()
	actions := ""
	for rows.Next() {
		var mode, s string
		var n uint64
		if err := rows.Scan(&mode, &s, &n); err != nil {
			return err
		}
		actions += fmt.Sprintf(" %s/%s=%d", mode, s, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if actions == "" {
		actions = " none yet"
	}
	fmt.Fprintf(d.out, "status: %d events accepted by ingest, %d stored in ClickHouse, %d alerts; actions:%s; webhook calls %d\n",
		accepted, events, alerts, actions, d.hookHit.Load())
	return nil
}
