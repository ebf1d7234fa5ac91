package adapter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Kind classifies a vendor error by what the caller should do about it.
type Kind int

const (
	// KindRetryable is a transient failure: 429 or another rate limit, 5xx,
	// a timeout, a refused or reset connection. Retry after RetryAfter (or a
	// backoff).
	KindRetryable Kind = iota + 1
	// KindAuth is an authentication or authorisation failure that a token
	// refresh did not cure (401, 403).
	KindAuth
	// KindNotFound is an unknown user or object (404, or an empty query
	// result).
	KindNotFound
	// KindInvalid is a request the vendor rejected as malformed or not
	// allowed in the object's current state (400, 409, 422).
	KindInvalid
	// KindPermanent is any other failure that retrying will not cure.
	KindPermanent
)

func (k Kind) String() string {
	switch k {
	case KindRetryable:
		return "retryable"
	case KindAuth:
		return "auth"
	case KindNotFound:
		return "not_found"
	case KindInvalid:
		return "invalid"
	case KindPermanent:
		return "permanent"
	}
	return "unknown"
}

// Sentinels for errors.Is: errors.Is(err, adapter.ErrNotFound) is true for
// every *Error of that kind.
var (
	ErrRetryable = &Error{Kind: KindRetryable}
	ErrAuth      = &Error{Kind: KindAuth}
	ErrNotFound  = &Error{Kind: KindNotFound}
	ErrInvalid   = &Error{Kind: KindInvalid}
	ErrPermanent = &Error{Kind: KindPermanent}
)

// Error is a classified failure of one vendor call. Message carries the
// vendor's own error text, so an action that ends as failed says what the
// vendor said.
type Error struct {
	Vendor string // "salesforce", "okta", …
	Op     string // "freeze", "state", "token", …
	Kind   Kind
	// Status is the HTTP status (or SMTP reply code); 0 when the request
	// never got an answer.
	Status int
	// Code is the vendor's error code (INVALID_SESSION_ID, E0000007,
	// Request_ResourceNotFound, …), when it gave one.
	Code string
	// Message is the vendor's error text.
	Message string
	// RetryAfter is how long the vendor asked us to wait (Retry-After,
	// X-Rate-Limit-Reset); 0 when it did not say.
	RetryAfter time.Duration
	// Err is the underlying transport error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Vendor)
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	b.WriteString(": ")
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, "status %d", e.Status)
	default:
		b.WriteString(e.Kind.String())
	}
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes the Err* sentinels match every error of their kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Vendor == "" && t.Op == "" && t.Status == 0 && t.Kind == e.Kind
}

// IsRetryable reports whether err is worth retrying: a retryable vendor
// error, or a transport failure that never reached classification. A
// cancelled caller context is not retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ve *Error
	if errors.As(err, &ve) {
		return ve.Kind == KindRetryable
	}
	return isTransient(err)
}

// RetryAfter is the wait the vendor asked for, or 0.
func RetryAfter(err error) time.Duration {
	var ve *Error
	if errors.As(err, &ve) {
		return ve.RetryAfter
	}
	return 0
}

// KindOf is err's kind: its own for an *Error, KindRetryable for a
// transport failure, KindPermanent otherwise.
func KindOf(err error) Kind {
	var ve *Error
	if errors.As(err, &ve) {
		return ve.Kind
	}
	if isTransient(err) {
		return KindRetryable
	}
	return KindPermanent
}

// Transport wraps a failure to get an answer at all (dial, TLS, timeout,
// reset) as a vendor error; a cancelled parent context stays permanent so
// shutdown does not look like an outage worth retrying.
func Transport(vendor, op string, err error) *Error {
	k := KindPermanent
	if isTransient(err) {
		k = KindRetryable
	}
	return &Error{Vendor: vendor, Op: op, Kind: k, Err: err}
}

func isTransient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // timeouts, refused and reset connections
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// ClassifyStatus is the kind an HTTP status means when a vendor documents
// nothing more specific.
func ClassifyStatus(status int) Kind {
	switch {
	case status == 408 || status == 425 || status == 429 || status >= 500:
		return KindRetryable
	case status == 401 || status == 403:
		return KindAuth
	case status == 404 || status == 410:
		return KindNotFound
	case status == 400 || status == 409 || status == 422:
		return KindInvalid
	}
	return KindPermanent
}
