package poll

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
)

func (fx fixture) salesforceConfig(t *testing.T, s *salesforceStandIn) Config {
	return Config{
		Source:           ingest.Source{Name: "sf-elf", Tenant: "acme"},
		Vendor:           VendorSalesforceELF,
		TokenURL:         s.srv.URL + "/services/oauth2/token",
		ClientID:         s.oauth.clientID,
		ClientSecretFile: fx.file(t, "sf.secret", s.oauth.secret),
		RefreshTokenFile: fx.file(t, "sf.refresh", s.oauth.refresh),
		EventTypes:       []string{"Login", "API"},
		Start:            48 * time.Hour,
	}
}

// TestSalesforceELF reads hourly log files through the stand-in, which
// pages the query two records at a time, ends the session every three
// requests, and refuses every fifth for the API limit: every row of the
// files asked for is published once, the malformed one dead-lettered; a
// file created later is read by a restarted poller, and nothing twice.
func TestSalesforceELF(t *testing.T) {
	fx := newFixture(t)
	s := newSalesforceStandIn(t)
	s.oauth.maxUses, s.limitEvery = 3, 5
	t0 := time.Now().Add(-5 * time.Hour).UTC().Truncate(time.Second)
	s.add(sfFile{ID: "0ATxx0000000001AAA", EventType: "Login", Interval: "Hourly", Created: t0, CSV: loginCSV(t0, 5, "005B0000001vURv")})
	s.add(sfFile{ID: "0ATxx0000000002AAA", EventType: "API", Interval: "Hourly", Created: t0, CSV: apiCSV(t0, 3)})
	s.add(sfFile{ID: "0ATxx0000000003AAA", EventType: "Login", Interval: "Hourly", Created: t0.Add(time.Hour),
		CSV: loginCSV(t0.Add(time.Hour), 7, "005B0000001vURv") + "Login,20130715233322.670\n"})
	s.add(sfFile{ID: "0ATxx0000000004AAA", EventType: "Login", Interval: "Daily", Created: t0, CSV: loginCSV(t0.Add(-24*time.Hour), 4, "005B0000001vURv")})
	s.add(sfFile{ID: "0ATxx0000000005AAA", EventType: "URI", Interval: "Hourly", Created: t0, CSV: "EVENT_TYPE,TIMESTAMP\n"})
	cfg := fx.salesforceConfig(t, s)

	if err := fx.poller(t, cfg).CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)); len(ids) != 15 {
		t.Fatalf("published %d events, want 5+3+7", len(ids))
	}
	dead := ingesttest.DeadLetters(t, fx.env)
	if len(dead) != 1 || dead[0].Origin.File != "EventLogFile/0ATxx0000000003AAA" || dead[0].Origin.Line != 9 || dead[0].Origin.Collector != "api" {
		t.Fatalf("dead letters %+v", dead)
	}
	// Six requests (two query pages, three downloads, one retried after
	// the limit): the first token's session ends after three.
	if n := fx.metric(t, "trailwatch_ingest_poll_token_refreshes_total", ""); n != 2 {
		t.Errorf("tokens obtained %v, want 2", n)
	}
	if n := fx.metric(t, "trailwatch_ingest_poll_requests_total", "unauthorized"); n != 1 {
		t.Errorf("requests refused for an ended session %v, want 1", n)
	}
	if n := fx.metric(t, "trailwatch_ingest_poll_requests_total", "rate_limited"); n < 1 {
		t.Errorf("rate-limited requests %v", n)
	}

	// A file created since, read by a new poller from the checkpoint.
	s.add(sfFile{ID: "0ATxx0000000006AAA", EventType: "API", Interval: "Hourly", Created: t0.Add(2 * time.Hour), CSV: apiCSV(t0.Add(2*time.Hour), 4)})
	if err := fx.poller(t, cfg).CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)); len(ids) != 19 {
		t.Fatalf("published %d events after the new file, want 19", len(ids))
	}
	for id, n := range s.downloads {
		if n != 1 && id != "0ATxx0000000003AAA" {
			t.Errorf("file %s downloaded %d times", id, n)
		}
	}
}

// TestSalesforceResumesInsideAFile stops the poller after two batches of a
// file and restarts it: the file is read again from the first row not yet
// acknowledged, with no gap and no duplicate.
func TestSalesforceResumesInsideAFile(t *testing.T) {
	fx := newFixture(t)
	s := newSalesforceStandIn(t)
	t0 := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	s.add(sfFile{ID: "0ATxx0000000001AAA", EventType: "Login", Interval: "Hourly", Created: t0, CSV: loginCSV(t0, 9, "005B0000001vURv")})
	s.add(sfFile{ID: "0ATxx0000000002AAA", EventType: "Login", Interval: "Hourly", Created: t0.Add(time.Minute), CSV: loginCSV(t0.Add(time.Hour), 3, "005B0000001vXYZ")})
	cfg := fx.salesforceConfig(t, s)
	if err := stopAfterSaves(t, fx.poller(t, cfg), 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped poll: %v", err)
	}
	if n := len(ingesttest.Published(t, fx.env)); n != 4 {
		t.Fatalf("published %d before the stop, want two batches of two", n)
	}
	if err := fx.poller(t, cfg).CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ids := ingesttest.Distinct(t, ingesttest.Published(t, fx.env)); len(ids) != 12 {
		t.Fatalf("published %d distinct, want 12", len(ids))
	}
}

// TestSalesforcePausesNearTheAPILimit: when Sforce-Limit-Info says the org
// used max_api_usage of its daily requests, the poller reads no file until
// the next interval.
func TestSalesforcePausesNearTheAPILimit(t *testing.T) {
	fx := newFixture(t)
	s := newSalesforceStandIn(t)
	s.usage = "api-usage=14000/15000"
	t0 := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	s.add(sfFile{ID: "0ATxx0000000001AAA", EventType: "Login", Interval: "Hourly", Created: t0, CSV: loginCSV(t0, 2, "005B0000001vURv")})
	if err := fx.poller(t, fx.salesforceConfig(t, s)).CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(s.downloads) != 0 || len(ingesttest.Published(t, fx.env)) != 0 {
		t.Fatalf("read files at 93%% API usage: %v", s.downloads)
	}
	s.usage = "api-usage=20/15000"
	if err := fx.poller(t, fx.salesforceConfig(t, s)).CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(ingesttest.Published(t, fx.env)); n != 2 {
		t.Fatalf("published %d once below the limit", n)
	}
}

// TestBadCredentials: a refresh token the endpoint refuses stops the poll
// with the endpoint's reason and nothing secret in the error.
func TestBadCredentials(t *testing.T) {
	fx := newFixture(t)
	s := newSalesforceStandIn(t)
	cfg := fx.salesforceConfig(t, s)
	cfg.RefreshTokenFile = fx.file(t, "wrong.refresh", "5Aep861-revoked")
	err := fx.poller(t, cfg).CatchUp(t.Context())
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") || strings.Contains(err.Error(), "revoked") || strings.Contains(err.Error(), s.oauth.secret) {
		t.Fatalf("err = %v", err)
	}
}
