package poll

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/ingest/record"
)

// verdict is what a vendor makes of an answer that is not 2xx.
type verdict int

const (
	fail        verdict = iota // give up: the request is wrong
	transient                  // retry with backoff (network, 5xx)
	expired                    // the access token no longer holds: refresh, retry once
	rateLimited                // wait as the vendor says, retry
)

// vendor is what the request loop asks of an API.
type vendor interface {
	// classify reads a non-2xx answer (its body, at most 64 KiB): what to
	// do, and, for a rate limit, how long the vendor says to wait (0: back
	// off on our own).
	classify(resp *http.Response, body []byte) (verdict, time.Duration)
	// observe reads a 2xx answer's headers: how long to wait before the
	// next request because the vendor's budget is spent.
	observe(resp *http.Response) time.Duration
}

// client sends a poller's requests: with a fresh token, refreshing it once
// when the API says it expired, waiting out rate limits as the vendor says
// (with our own backoff when it does not), retrying transient failures.
type client struct {
	cfg    *Config
	http   *http.Client
	tokens *tokenSource
	v      vendor
	m      *metrics
	log    zerolog.Logger
	next   time.Time // no request before this (the vendor's pacing)
	now    func() time.Time
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do sends the request mk builds for a token and returns the first 2xx
// answer, its body unread (the caller closes it).
func (c *client) do(ctx context.Context, what string, mk func(ctx context.Context, tok token) (*http.Request, error)) (*http.Response, error) {
	backoff, limitBackoff := c.cfg.RetryBackoff, c.cfg.RateLimitBackoff
	attempts, refreshed := 0, false
	for {
		if err := sleep(ctx, c.next.Sub(c.now())); err != nil {
			return nil, err
		}
		tok, err := c.tokens.get(ctx)
		if err != nil {
			c.m.requests.WithLabelValues(c.cfg.Name, "auth_error").Inc()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		req, err := mk(ctx, tok)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.access)
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.m.requests.WithLabelValues(c.cfg.Name, "error").Inc()
			if attempts++; attempts >= c.cfg.MaxAttempts {
				return nil, fmt.Errorf("%s: %w (after %d attempts)", what, err, attempts)
			}
			c.log.Warn().Err(err).Str("request", what).Dur("retry_in", backoff).Msg("request failed; retrying")
			if err := sleep(ctx, backoff); err != nil {
				return nil, err
			}
			backoff = min(2*backoff, c.cfg.MaxWait)
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			c.m.requests.WithLabelValues(c.cfg.Name, "ok").Inc()
			if wait := c.v.observe(resp); wait > 0 {
				c.next = c.now().Add(min(wait, c.cfg.MaxWait))
			}
			return resp, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		v, wait := c.v.classify(resp, body)
		switch v {
		case expired:
			c.m.requests.WithLabelValues(c.cfg.Name, "unauthorized").Inc()
			if refreshed || c.tokens.fixed {
				return nil, fmt.Errorf("%s: the API refused the access token (%d %s)", what, resp.StatusCode, record.Clip(string(body)))
			}
			c.log.Info().Str("request", what).Msg("access token expired; refreshing")
			c.tokens.expired(tok.access)
			refreshed = true
			continue
		case rateLimited:
			c.m.requests.WithLabelValues(c.cfg.Name, "rate_limited").Inc()
			if wait <= 0 {
				wait, limitBackoff = limitBackoff, min(2*limitBackoff, c.cfg.MaxWait)
			}
			wait = min(wait, c.cfg.MaxWait)
			c.m.waited.WithLabelValues(c.cfg.Name).Add(wait.Seconds())
			c.log.Warn().Str("request", what).Int("status", resp.StatusCode).Dur("wait", wait).Msg("rate limited; waiting as the API says")
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		case transient:
			c.m.requests.WithLabelValues(c.cfg.Name, "error").Inc()
			if attempts++; attempts < c.cfg.MaxAttempts {
				if err := sleep(ctx, backoff); err != nil {
					return nil, err
				}
				backoff = min(2*backoff, c.cfg.MaxWait)
				continue
			}
		default:
			c.m.requests.WithLabelValues(c.cfg.Name, "error").Inc()
		}
		return nil, fmt.Errorf("%s: the API answered %d: %s", what, resp.StatusCode, record.Clip(string(body)))
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}
