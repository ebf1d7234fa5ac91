package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// hsCursor is the HubSpot poller's checkpoint: every event before From is
// published; the window [From, To) is being paged, After being the cursor
// of the next page (HubSpot's cursors hold only with the same filters,
// which is why the window is saved with it).
type hsCursor struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to,omitempty"`
	After string    `json:"after,omitempty"`
}

type hsPoller struct {
	p      *Poller
	parser *ingest.Parser
}

const hsAuditPath = "/account-info/v3/activity/audit-logs"

func newHubSpot(p *Poller) (*hsPoller, error) {
	src := p.cfg.Source
	src.Format = "hubspot-audit-logs"
	parser, err := ingest.NewParser(src, "", ingest.DefaultLimits())
	if err != nil {
		return nil, err
	}
	p.c.v = hsVendor{}
	return &hsPoller{p: p, parser: parser}, nil
}

// hsTime is how windows are written in the query: RFC 3339, milliseconds.
const hsTime = "2006-01-02T15:04:05.000Z"

// catchUp reads window after window up to SettleDelay before now. Events
// are kept by their own time within [From, To): the query asks for a
// millisecond more on each side, so whether HubSpot's occurredAfter and
// occurredBefore include their bounds or not, an event on a bound is read
// in exactly one window.
func (hs *hsPoller) catchUp(ctx context.Context) error {
	p := hs.p
	cur := hsCursor{From: p.now().Add(-p.cfg.Start).UTC().Truncate(time.Millisecond)}
	if _, err := p.store.Load(p.checkpointName(), &cur); err != nil {
		return err
	}
	for {
		if cur.To.IsZero() {
			to := p.now().Add(-p.cfg.SettleDelay).UTC().Truncate(time.Millisecond)
			to = minTime(to, cur.From.Add(p.cfg.Window))
			if !to.After(cur.From) {
				return nil // caught up
			}
			cur.To = to
		}
		next, err := hs.page(ctx, &cur)
		if err != nil {
			return err
		}
		if next != "" {
			cur.After = next
		} else {
			cur = hsCursor{From: cur.To}
		}
		if err := p.save(&cur, cur.From); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// page reads and publishes one page of the window, returning the next
// page's cursor ("" at the window's end).
func (hs *hsPoller) page(ctx context.Context, cur *hsCursor) (string, error) {
	p := hs.p
	q := url.Values{
		"limit":          {strconv.Itoa(p.cfg.PageSize)},
		"occurredAfter":  {cur.From.Add(-time.Millisecond).Format(hsTime)},
		"occurredBefore": {cur.To.Add(time.Millisecond).Format(hsTime)},
	}
	if cur.After != "" {
		q.Set("after", cur.After)
	}
	resp, err := p.c.do(ctx, "audit-logs", func(ctx context.Context, tok token) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, tok.instance+hsAuditPath+"?"+q.Encode(), nil)
	})
	if err != nil {
		return "", err
	}
	var page struct {
		Results []json.RawMessage `json:"results"`
		Paging  struct {
			Next struct {
				After string `json:"after"`
			} `json:"next"`
		} `json:"paging"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&page)
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("audit-logs: decoding the answer: %w", err)
	}
	b := p.pub.NewBatch(p.cfg.Name, deadletter.Origin{Source: p.cfg.Name, Collector: "api", Tenant: p.cfg.Tenant, File: hsAuditPath})
	var ev event.Event
	now := p.now()
	for i, raw := range page.Results {
		if err := hs.parser.Parse(record.Record{Data: raw}, now, &ev); err != nil {
			b.Reject(raw, 0, i, err)
			continue
		}
		if ev.Timestamp.Before(cur.From) || !ev.Timestamp.Before(cur.To) {
			continue // another window's
		}
		b.AddEvent(&ev, hs.parser.MaxEventBytes(), raw, 0, i)
	}
	if err := p.publish(ctx, b); err != nil {
		return "", err
	}
	if next := page.Paging.Next.After; next != "" && next == cur.After {
		return "", fmt.Errorf("audit-logs: the API returned the cursor it was given (%q): refusing to loop", next)
	}
	return page.Paging.Next.After, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// hsVendor reads HubSpot's answers: 401 is an expired or revoked token
// (category EXPIRED_AUTHENTICATION); 429 is a rate limit, whose wait is
// Retry-After when given, else the rolling window of
// X-HubSpot-RateLimit-Interval-Milliseconds; a DAILY policy waits the
// longest. A 2xx answer whose X-HubSpot-RateLimit-Remaining is 0 paces
// the next request by the window, and Secondly-Remaining 0 by a second.
type hsVendor struct{}

func (hsVendor) classify(resp *http.Response, body []byte) (verdict, time.Duration) {
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return expired, 0
	case resp.StatusCode == http.StatusTooManyRequests:
		if d := retryAfter(resp.Header, time.Now()); d > 0 {
			return rateLimited, d
		}
		if bytes.Contains(body, []byte(`"DAILY"`)) {
			return rateLimited, 24 * time.Hour // capped by max_wait
		}
		return rateLimited, headerMillis(resp.Header, "X-HubSpot-RateLimit-Interval-Milliseconds")
	case resp.StatusCode >= 500:
		return transient, 0
	}
	return fail, 0
}

func (hsVendor) observe(resp *http.Response) time.Duration {
	h := resp.Header
	if h.Get("X-HubSpot-RateLimit-Remaining") == "0" {
		return headerMillis(h, "X-HubSpot-RateLimit-Interval-Milliseconds")
	}
	if h.Get("X-HubSpot-RateLimit-Secondly-Remaining") == "0" {
		return time.Second
	}
	return 0
}

func headerMillis(h http.Header, name string) time.Duration {
	ms, err := strconv.Atoi(h.Get(name))
	if err != nil || ms < 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}
