package httpin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Headers of signed requests.
const (
	HeaderSource    = "X-Trailwatch-Source"    // names an HMAC-only source
	HeaderTimestamp = "X-Trailwatch-Timestamp" // Unix time in milliseconds
	HeaderSignature = "X-Trailwatch-Signature" // "v1=" + hex HMAC-SHA256
)

// signatureMAC is the HMAC-SHA256 of what a sender signs: "v1:", the
// timestamp header's value, ":", the request target as sent (path and
// query), ":", and the body exactly as sent (compressed, when it is).
// Signing the target keeps a signature from being moved to another format
// or path. The pieces are fed in turn: the body is not copied.
func signatureMAC(secret []byte, timestamp, target string, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v1:"))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{':'})
	mac.Write([]byte(target))
	mac.Write([]byte{':'})
	mac.Write(body)
	return mac.Sum(nil)
}

// Sign returns the X-Trailwatch-Signature value of a request (for clients
// and tests).
func Sign(secret []byte, timestamp, target string, body []byte) string {
	return "v1=" + hex.EncodeToString(signatureMAC(secret, timestamp, target, body))
}

// readSecret reads a credential from a file (trailing line break dropped)
// or an environment variable. Errors name where, never the value.
func readSecret(where, file, env string) ([]byte, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if len(s) < 16 {
			return nil, fmt.Errorf("%s: %s holds fewer than 16 characters; use a long random secret", where, file)
		}
		return []byte(s), nil
	case env != "":
		s := os.Getenv(env)
		if len(s) < 16 {
			return nil, fmt.Errorf("%s: environment variable %s is unset or shorter than 16 characters", where, env)
		}
		return []byte(s), nil
	}
	return nil, nil
}

// authFailure is why a request was not authenticated; its reason is a
// bounded metric label, its message what the sender is told.
type authFailure struct {
	reason  string
	message string
}

var (
	errMissing      = &authFailure{"missing", "authentication required: Authorization: Bearer <token>, or a signed request (" + HeaderSource + ", " + HeaderTimestamp + ", " + HeaderSignature + ")"}
	errInvalid      = &authFailure{"invalid", "invalid credentials"}
	errUnsigned     = &authFailure{"unsigned", "this source's requests must be signed (" + HeaderTimestamp + ", " + HeaderSignature + ")"}
	errBadSignature = &authFailure{"bad_signature", "signature does not match"}
)

// identify finds the source a request claims by its headers alone, so
// that a request with no valid token is refused before its body is read.
// Every token is compared, in constant time over its SHA-256, whichever
// matches: the time taken tells nothing about the tokens.
func (s *Server) identify(r *http.Request) (*source, *authFailure) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		// The scheme is case-insensitive (RFC 9110, 11.1): "bearer" is
		// as good as "Bearer".
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, errInvalid
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		var found *source
		for _, src := range s.sources {
			if src.tokenHash != nil && subtle.ConstantTimeCompare(sum[:], src.tokenHash) == 1 {
				found = src
			}
		}
		if found == nil {
			return nil, errInvalid
		}
		return found, nil
	}
	if name := r.Header.Get(HeaderSource); name != "" {
		src := s.byName[name]
		if src == nil || src.secret == nil || src.tokenHash != nil {
			// Unknown, or a source that needs its token too: the same
			// answer, so names cannot be probed.
			return nil, errInvalid
		}
		return src, nil
	}
	return nil, errMissing
}

// verify checks a signed request's signature, then its timestamp, then
// that the signature was not seen before. Only a sender holding the
// secret learns that a timestamp is stale or a signature replayed.
func (s *Server) verify(src *source, r *http.Request, body []byte, now time.Time) *authFailure {
	if src.secret == nil {
		return nil
	}
	ts, sig := r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return errUnsigned
	}
	hexSig, ok := strings.CutPrefix(sig, "v1=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(got) != sha256.Size {
		return errBadSignature
	}
	want := signatureMAC(src.secret, ts, r.RequestURI, body)
	if !hmac.Equal(got, want) {
		return errBadSignature
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &authFailure{"bad_timestamp", HeaderTimestamp + " must be Unix time in milliseconds"}
	}
	// Compare in milliseconds against the bounds, not with now.Sub: a
	// timestamp far ahead (Unix nanoseconds by mistake, or the largest
	// int64) makes now.Sub saturate at the most negative Duration, whose
	// negation overflows to itself and so passed "-d > tolerance".
	nowMs, tol := now.UnixMilli(), s.cfg.SignatureTolerance.Milliseconds()
	if ms < nowMs-tol || ms > nowMs+tol {
		const maxMs = math.MaxInt64 / int64(time.Millisecond) // a Duration's range
		off := "more than 292 years"
		if ms > nowMs-maxMs && ms < nowMs+maxMs {
			off = (time.Duration(nowMs-ms) * time.Millisecond).String()
		}
		return &authFailure{"stale", fmt.Sprintf("%s is %s from the server's clock, limit %s: re-sign with the current time", HeaderTimestamp, off, s.cfg.SignatureTolerance)}
	}
	switch src.replay.add([sha256.Size]byte(want), ms, nowMs-tol) {
	case replaySeen:
		return &authFailure{"replayed", "this signature was used before: sign every request, retries too, with a new timestamp"}
	case replayTooOld:
		return &authFailure{"stale", "this timestamp is at or before signatures the server no longer remembers (old, or forgotten under load): re-sign with the current time"}
	}
	return nil
}

// errNoSources is returned when no source is configured.
var errNoSources = errors.New("ingest.http.sources: no source is configured, so every request would be refused")
