package adapter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// maxBody bounds what we read of a vendor response: enough for any error
// document or the small objects adapters query.
const maxBody = 1 << 20

// maxMessage bounds the vendor text kept in an error (and so in the action
// record).
const maxMessage = 512

// Auth adds credentials to a request.
type Auth interface {
	// Authorize sets the request's credentials and returns the token it
	// used, so a refusal can invalidate exactly that token.
	Authorize(ctx context.Context, req *http.Request) (token string, err error)
	// Invalidate drops token after the vendor refused it (401) and reports
	// whether a fresh one can be had: true for OAuth, false for a static
	// API token, which no retry will cure.
	Invalidate(token string) bool
}

// StaticAuth is a fixed API token: `Authorization: <Scheme> <Token>`
// (Okta's SSWS, a static Bearer token).
type StaticAuth struct {
	Scheme string
	Token  string
}

// Authorize sets the header.
func (a StaticAuth) Authorize(_ context.Context, req *http.Request) (string, error) {
	req.Header.Set("Authorization", a.Scheme+" "+a.Token)
	return a.Token, nil
}

// Invalidate reports false: a static token cannot be refreshed.
func (StaticAuth) Invalidate(string) bool { return false }

// Request is one vendor call.
type Request struct {
	Op     string // what the call does, for errors and metrics: "freeze", "state", …
	Method string
	URL    string
	Body   []byte // sent as is; nil for none
	Header http.Header
}

// Response is a successful (2xx) answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Caller sends requests to one vendor: a timeout on every call, one token
// refresh and resend on 401, and every failure classified as a *Error
// carrying the vendor's own text.
type Caller struct {
	Vendor  string
	Client  *http.Client  // nil: a client with no timeout of its own (Timeout bounds each call)
	Timeout time.Duration // per call, including reading the body; 0: 30 s
	Auth    Auth          // nil: no credentials
	// Describe extracts the vendor's error code and text from an error
	// body; nil, or an empty message, keeps the body's first line.
	Describe func(body []byte) (code, message string)
	// Classify overrides the kind of an error response; returning 0 keeps
	// the default for its status (ClassifyStatus).
	Classify func(status int, code string) Kind
	// ResetHeader names a header carrying the rate-limit reset as epoch
	// seconds (Okta's X-Rate-Limit-Reset), read besides Retry-After.
	ResetHeader string
	Now         func() time.Time // nil: time.Now
	UserAgent   string
}

// Do sends r and returns the 2xx answer, or a *Error.
func (c *Caller) Do(ctx context.Context, r Request) (*Response, error) {
	resp, token, err := c.once(ctx, r)
	if err == nil {
		return resp, nil
	}
	var ve *Error
	if c.Auth != nil && token != "" && errors.As(err, &ve) && ve.Status == http.StatusUnauthorized && c.Auth.Invalidate(token) {
		// The token expired or was revoked: fetch a fresh one and resend
		// once. A second 401 is a real authentication failure.
		resp, _, err = c.once(ctx, r)
	}
	return resp, err
}

func (c *Caller) once(ctx context.Context, r Request) (*Response, string, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, "", &Error{Vendor: c.Vendor, Op: r.Op, Kind: KindInvalid, Err: err}
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	var token string
	if c.Auth != nil {
		token, err = c.Auth.Authorize(ctx, req)
		if err != nil {
			return nil, "", err
		}
	}
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, token, Transport(c.Vendor, r.Op, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, token, Transport(c.Vendor, r.Op, err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return &Response{Status: res.StatusCode, Header: res.Header, Body: b}, token, nil
	}
	return nil, token, c.errorFor(r.Op, res.StatusCode, res.Header, b)
}

func (c *Caller) errorFor(op string, status int, h http.Header, body []byte) *Error {
	var code, msg string
	if c.Describe != nil {
		code, msg = c.Describe(body)
	}
	if msg == "" {
		msg = firstLine(body)
	}
	e := &Error{Vendor: c.Vendor, Op: op, Status: status, Code: code, Message: Clip(msg)}
	if c.Classify != nil {
		e.Kind = c.Classify(status, code)
	}
	if e.Kind == 0 {
		e.Kind = ClassifyStatus(status)
	}
	if e.Kind == KindRetryable {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		e.RetryAfter = AdvisedWait(h, c.ResetHeader, now())
	}
	return e
}

// Clip bounds vendor text to what an action record should carry, on a
// UTF-8 boundary.
func Clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}
