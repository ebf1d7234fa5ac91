package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPSink publishes batches to ingest's HTTP endpoint:
//
//	POST /v1/events
//	Authorization: Bearer <token>
//	Content-Type: application/x-ndjson
//	<one canonical event per line>
//
// Any 2xx answer means ingest accepted the batch (it answers only after
// Kafka acknowledged it); a JSON body with "rejected" counts events it
// sent to the dead-letter topic instead. 429 and 503 are retried after
// Retry-After (or a backoff), other 5xx and network errors after a
// backoff; 413 splits the batch in two; any other status is an error that
// quotes the answer. A retried batch carries the same event ids, so the
// pipeline deduplicates it.
type HTTPSink struct {
	url      string
	token    string
	client   *http.Client
	retries  int
	backoff  time.Duration
	sleep    func(context.Context, time.Duration) error
	accepted int
	rejected int
}

// HTTPConfig configures an HTTPSink.
type HTTPConfig struct {
	// URL is the endpoint, e.g. http://127.0.0.1:8080/v1/events; a URL
	// without a path gets /v1/events.
	URL string
	// Token is the bearer token.
	Token string
	// Client defaults to one with a 30 s timeout.
	Client *http.Client
	// Retries is how often a batch is retried (default 8); Backoff the
	// first pause, doubled each time up to 30 s (default 250 ms).
	Retries int
	Backoff time.Duration
}

// NewHTTPSink checks the configuration.
func NewHTTPSink(cfg HTTPConfig) (*HTTPSink, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--http: %q is not an http or https URL", cfg.URL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/events"
	}
	if cfg.Token == "" {
		return nil, errors.New("--http: no token (give --token-file or set TRAILWATCH_INGEST_TOKEN)")
	}
	if strings.ContainsAny(cfg.Token, "\r\n") {
		return nil, errors.New("--http: the token holds a line break")
	}
	s := &HTTPSink{url: u.String(), token: cfg.Token, client: cfg.Client, retries: cfg.Retries, backoff: cfg.Backoff}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.retries <= 0 {
		s.retries = 8
	}
	if s.backoff <= 0 {
		s.backoff = 250 * time.Millisecond
	}
	return s, nil
}

// Accepted and Rejected are the counts ingest reported (or, for a 2xx
// without a count, the batch sizes).
func (s *HTTPSink) Accepted() int { return s.accepted }

// Rejected is the number of events ingest said it sent to the dead-letter
// topic.
func (s *HTTPSink) Rejected() int { return s.rejected }

// Write posts a batch, retrying as the endpoint asks.
func (s *HTTPSink) Write(ctx context.Context, batch [][]byte) error {
	if len(batch) == 0 {
		return nil
	}
	var body bytes.Buffer
	for _, b := range batch {
		body.Write(b)
		body.WriteByte('\n')
	}
	wait := s.backoff
	for attempt := 0; ; attempt++ {
		status, retryAfter, msg, err := s.post(ctx, body.Bytes())
		switch {
		case err == nil && status/100 == 2:
			s.count(len(batch), msg)
			return nil
		case err == nil && status == http.StatusRequestEntityTooLarge && len(batch) > 1:
			half := len(batch) / 2
			if err := s.Write(ctx, batch[:half]); err != nil {
				return err
			}
			return s.Write(ctx, batch[half:])
		case err == nil && status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable && status/100 != 5:
			return fmt.Errorf("POST %s: %d %s: %s", s.url, status, http.StatusText(status), msg)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= s.retries {
			if err != nil {
				return fmt.Errorf("POST %s: giving up after %d attempts: %w", s.url, attempt+1, err)
			}
			return fmt.Errorf("POST %s: giving up after %d attempts: %d %s: %s", s.url, attempt+1, status, http.StatusText(status), msg)
		}
		pause := wait
		if retryAfter > 0 {
			pause = retryAfter
		}
		if err := s.pause(ctx, pause); err != nil {
			return err
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (s *HTTPSink) pause(ctx context.Context, d time.Duration) error {
	if s.sleep != nil {
		return s.sleep(ctx, d)
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

// post sends one request: the status, a Retry-After, and the answer's
// first bytes.
func (s *HTTPSink) post(ctx context.Context, body []byte) (int, time.Duration, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	var ra time.Duration
	if v := resp.Header.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 3600 {
			ra = time.Duration(n) * time.Second
		}
	}
	return resp.StatusCode, ra, strings.TrimSpace(string(b)), nil
}

// count reads {"accepted": n, "rejected": m} when the answer has it.
func (s *HTTPSink) count(n int, msg string) {
	var c struct {
		Accepted *int `json:"accepted"`
		Rejected *int `json:"rejected"`
	}
	if json.Unmarshal([]byte(msg), &c) == nil && c.Accepted != nil {
		s.accepted += *c.Accepted
		if c.Rejected != nil {
			s.rejected += *c.Rejected
		}
		return
	}
	s.accepted += n
}

// Close does nothing: every batch was sent when Write returned.
func (s *HTTPSink) Close(context.Context) error { return nil }
