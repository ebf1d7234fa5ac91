package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request.
const (
	// HeaderTimestamp is the signing time in Unix seconds (decimal).
	HeaderTimestamp = "X-Trailwatch-Timestamp"
	// HeaderSignature is one or more "v1=<hex>" entries separated by
	// commas: hex(HMAC-SHA256(secret, timestamp + "." + body)), one per
	// secret in use (two while a secret is being rotated).
	HeaderSignature = "X-Trailwatch-Signature"
	// HeaderDelivery identifies the delivery (action id and operation): a
	// receiver may deduplicate on it.
	HeaderDelivery = "X-Trailwatch-Delivery"
)

// DefaultTolerance is how far a timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns.
var (
	ErrNoSignature  = errors.New("webhook: no v1 signature")
	ErrBadSignature = errors.New("webhook: malformed signature header")
	ErrBadTimestamp = errors.New("webhook: malformed timestamp")
	ErrStale        = errors.New("webhook: timestamp outside tolerance")
	ErrMismatch     = errors.New("webhook: signature does not match")
)

// maxSignatures bounds the entries Verify examines, so a hostile header
// cannot make it compute without end.
const maxSignatures = 8

// Sign returns the timestamp and signature header values for body sent at
// ts, signed with each secret (the current one first).
func Sign(ts time.Time, body []byte, secrets ...[]byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	parts := make([]string, 0, len(secrets))
	for _, s := range secrets {
		parts = append(parts, "v1="+hex.EncodeToString(mac(s, timestamp, body)))
	}
	return timestamp, strings.Join(parts, ",")
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// ParseSignatureHeader returns the decoded v1 signatures of a signature
// header. Entries of other schemes are skipped (a later scheme can be
// added beside v1); a malformed v1 entry is an error.
func ParseSignatureHeader(h string) ([][]byte, error) {
	var sigs [][]byte
	for i, part := range strings.Split(h, ",") {
		if i >= 2*maxSignatures {
			return nil, fmt.Errorf("%w: more than %d entries", ErrBadSignature, 2*maxSignatures)
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		scheme, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%w: entry %d has no '='", ErrBadSignature, i+1)
		}
		if scheme != "v1" {
			continue
		}
		if len(value) != 2*sha256.Size {
			return nil, fmt.Errorf("%w: entry %d is %d hex digits, want %d", ErrBadSignature, i+1, len(value), 2*sha256.Size)
		}
		b, err := hex.DecodeString(value)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d is not hex", ErrBadSignature, i+1)
		}
		if len(sigs) == maxSignatures {
			return nil, fmt.Errorf("%w: more than %d v1 signatures", ErrBadSignature, maxSignatures)
		}
		sigs = append(sigs, b)
	}
	if len(sigs) == 0 {
		return nil, ErrNoSignature
	}
	return sigs, nil
}

// Verify checks a request a receiver got: the timestamp is within
// tolerance of now (replays of old requests fail) and one of the v1
// signatures is the HMAC of timestamp + "." + body under secret. It
// compares in constant time.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(timestamp) == 0 || len(timestamp) > 12 || strings.TrimLeft(timestamp, "0123456789") != "" {
		return ErrBadTimestamp
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s from now, tolerance %s", ErrStale, d.Round(time.Second), tolerance)
	}
	sigs, err := ParseSignatureHeader(signature)
	if err != nil {
		return err
	}
	want := mac(secret, timestamp, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrMismatch
}
