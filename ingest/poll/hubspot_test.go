package poll

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
)

func (fx fixture) hubspotConfig(t *testing.T, h *hubSpotStandIn) Config {
	return Config{
		Source:           ingest.Source{Name: "hubspot", Tenant: "acme"},
		Vendor:           VendorHubSpotAudit,
		BaseURL:          h.srv.URL,
		TokenURL:         h.srv.URL + "/oauth/v1/token",
		ClientID:         h.oauth.clientID,
		ClientSecretEnv:  "TEST_HS_SECRET",
		RefreshTokenFile: fx.file(t, "hs.refresh", h.oauth.refresh),
		PageSize:         3,
		Start:            3 * time.Hour,
		Window:           30 * time.Minute,
		SettleDelay:      time.Minute,
	}
}

func hsIDs(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestHubSpotAuditLogs reads the audit logs in 30-minute windows of pages
// of three, with a 429 every fourth request and tokens that expire every
// five requests, on a fixed clock so the windows are known: events on a
// window's bounds are read exactly once, and events that come later are
// read by a restarted poller from the cursor, none twice.
func TestHubSpotAuditLogs(t *testing.T) {
	fx := newFixture(t)
	t.Setenv("TEST_HS_SECRET", "hs-client-secret")
	h := newHubSpotStandIn(t)
	h.limitEvery, h.oauth.maxUses = 4, 5
	clock := time.Now().UTC().Truncate(time.Millisecond)
	from := clock.Add(-3 * time.Hour)
	var want []string
	add := func(id string, at time.Time) {
		h.add(hsEvent{ID: id, At: at})
		want = append(want, "hs-audit-"+id)
	}
	for i := range 20 {
		add(fmt.Sprint(1000+i), from.Add(time.Duration(i)*7*time.Minute+time.Second))
	}
	add("2000", from.Add(30*time.Minute))                        // on the first window's end
	add("2001", from.Add(30*time.Minute-time.Millisecond))       // just before it
	add("2002", from)                                            // on the first window's start
	h.add(hsEvent{ID: "3000", At: clock.Add(-30 * time.Second)}) // inside the settle delay: not yet

	p := fx.poller(t, fx.hubspotConfig(t, h))
	p.now = func() time.Time { return clock }
	if err := p.CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := ingesttest.Published(t, fx.env)
	ingesttest.Distinct(t, got)
	if !slices.Equal(hsIDs(got), hsIDs(want)) {
		t.Fatalf("published %v\nwant %v", hsIDs(got), hsIDs(want))
	}
	if n := fx.metric(t, "trailwatch_ingest_poll_requests_total", "rate_limited"); n < 1 {
		t.Errorf("rate-limited requests %v", n)
	}
	if n := fx.metric(t, "trailwatch_ingest_poll_requests_total", "unauthorized"); n < 1 {
		t.Errorf("expired-token answers %v", n)
	}

	// Later: the settled event and new ones, read by a restarted poller.
	clock = clock.Add(10 * time.Minute)
	want = append(want, "hs-audit-3000")
	add("3001", clock.Add(-5*time.Minute))
	p = fx.poller(t, fx.hubspotConfig(t, h))
	p.now = func() time.Time { return clock }
	if err := p.CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	got = ingesttest.Published(t, fx.env)
	ingesttest.Distinct(t, got)
	if !slices.Equal(hsIDs(got), hsIDs(want)) {
		t.Fatalf("after the restart published %v\nwant %v", hsIDs(got), hsIDs(want))
	}
}

// TestHubSpotResumesInsideAWindow stops the poller after its second page
// and restarts it: the saved after cursor, with the window it belongs to,
// carries on with no gap and no duplicate.
func TestHubSpotResumesInsideAWindow(t *testing.T) {
	fx := newFixture(t)
	t.Setenv("TEST_HS_SECRET", "hs-client-secret")
	h := newHubSpotStandIn(t)
	clock := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 10 {
		h.add(hsEvent{ID: fmt.Sprint(i), At: clock.Add(-2*time.Hour - time.Duration(i)*time.Minute)})
	}
	cfg := fx.hubspotConfig(t, h)
	cfg.Window = 24 * time.Hour // one window, paged
	p := fx.poller(t, cfg)
	p.now = func() time.Time { return clock }
	if err := stopAfterSaves(t, p, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped poll: %v", err)
	}
	if n := len(ingesttest.Published(t, fx.env)); n != 6 {
		t.Fatalf("published %d before the stop, want two pages of three", n)
	}
	var cur hsCursor
	if ok, _ := fx.store.Load("poll-hubspot", &cur); !ok || cur.After == "" || cur.To.IsZero() {
		t.Fatalf("checkpoint %+v: want a window and its after cursor", cur)
	}
	p = fx.poller(t, cfg)
	p.now = func() time.Time { return clock }
	if err := p.CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)); len(ids) != 10 {
		t.Fatalf("published %d distinct, want 10", len(ids))
	}
}

// TestTokenRefreshedBeforeExpiry: a token whose announced expiry is less
// than a minute away is replaced before it is used, without a 401.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	h := newHubSpotStandIn(t)
	cfg := Config{Source: ingest.Source{Name: "hs"}, TokenURL: h.srv.URL + "/oauth/v1/token", ClientID: h.oauth.clientID}
	ts := &tokenSource{cfg: &cfg, client: http.DefaultClient, secret: h.oauth.secret, refresh: h.oauth.refresh}
	clock := time.Now()
	ts.now = func() time.Time { return clock }
	first, err := ts.get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(29*time.Minute - time.Second) // expires_in 1800: 61 s left
	if again, _ := ts.get(t.Context()); again.access != first.access {
		t.Fatal("a token with a minute left was replaced")
	}
	clock = clock.Add(2 * time.Second)
	next, err := ts.get(t.Context())
	if err != nil || next.access == first.access {
		t.Fatalf("a token with 59 s left was kept: %v", err)
	}
	if h.oauth.issued != 2 {
		t.Fatalf("issued %d tokens", h.oauth.issued)
	}
}

// TestRetryAfter reads both forms of the header.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"": 0, "7": 7 * time.Second, "Tue, 03 Nov 2026 12:00:30 GMT": 30 * time.Second, "soon": 0} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", v, got, want)
		}
	}
}
