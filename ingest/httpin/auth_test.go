package httpin

import (
	"crypto/sha256"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest/internal/ingesttest"
)

// TestAuthentication: every way in is refused 401 except a valid token or
// a valid, fresh, first-time signature; nothing refused is published or
// dead-lettered.
func TestAuthentication(t *testing.T) {
	fx := newFixture(t, nil)
	now := time.Now()
	body := ingesttest.Event(1, now)
	target := EventsPath
	fresh := func(source, secret string) map[string]string { return signed(source, secret, target, body, time.Now()) }
	withToken := func(h map[string]string, token string) map[string]string {
		h["Authorization"] = "Bearer " + token
		return h
	}
	replayed := fresh("signed", signedSecret)
	if r := post(t, fx.url, target, replayed, body); r.status != http.StatusOK {
		t.Fatalf("first signed request: %d %s", r.status, r.body)
	}
	cases := []struct {
		name    string
		headers map[string]string
		body    []byte
		reason  string
	}{
		{"no credentials", nil, body, "missing"},
		{"wrong token", bearer("not-the-token-0123456789"), body, "invalid"},
		{"token of another scheme", map[string]string{"Authorization": "Basic " + crmToken}, body, "invalid"},
		{"a scheme merely starting with Bearer", map[string]string{"Authorization": "Bearerx " + crmToken}, body, "invalid"},
		{"token with no scheme", map[string]string{"Authorization": crmToken}, body, "invalid"},
		{"token with a byte changed", bearer(crmToken[:len(crmToken)-1] + "X"), body, "invalid"},
		{"unknown signed source", fresh("nobody", signedSecret), body, "invalid"},
		{"token-only source named for signing", fresh("crm", signedSecret), body, "invalid"},
		{"signed source, no signature", map[string]string{HeaderSource: "signed"}, body, "unsigned"},
		{"bad signature", fresh("signed", "another-secret-0123456789"), body, "bad_signature"},
		{"signature of another body", fresh("signed", signedSecret), ingesttest.Event(2, now), "bad_signature"},
		{"signature not hex", map[string]string{HeaderSource: "signed", HeaderTimestamp: "1", HeaderSignature: "v1=zz"}, body, "bad_signature"},
		{"replayed signature", replayed, body, "replayed"},
		{"stale signature", signed("signed", signedSecret, target, body, now.Add(-10*time.Minute)), body, "stale"},
		{"signature from the future", signed("signed", signedSecret, target, body, now.Add(10*time.Minute)), body, "stale"},
		{"both: token without signature", bearer(bothToken), body, "unsigned"},
		{"both: signature without token", fresh("both", bothSecret), body, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, fx.url, target, tc.headers, tc.body)
			if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			msg := r.errorResponse(t).Error
			if strings.Contains(msg, crmToken) || strings.Contains(msg, signedSecret) {
				t.Fatalf("the answer repeats a secret: %s", msg)
			}
		})
	}
	// Moving a signature to another target (a format) breaks it.
	h := fresh("signed", signedSecret)
	if r := post(t, fx.url, target+"?format=hubspot-audit-logs", h, body); r.status != http.StatusUnauthorized {
		t.Fatalf("signature moved to another target: %d", r.status)
	}
	if r := post(t, fx.url, target, withToken(fresh("both", bothSecret), bothToken), body); r.status != http.StatusOK {
		t.Fatalf("both: token and signature: %d %s", r.status, r.body)
	}
	if r := post(t, fx.url, target, bearer(crmToken), body); r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	// The scheme is case-insensitive (RFC 9110, 11.1).
	if r := post(t, fx.url, target, map[string]string{"Authorization": "bearer " + crmToken}, ingesttest.Event(3, now)); r.status != http.StatusOK {
		t.Fatalf("token, scheme in lower case: %d %s", r.status, r.body)
	}
	if n := len(ingesttest.Published(t, fx.env)); n != 4 {
		t.Errorf("published %d events, want the 4 authenticated requests' ones", n)
	}
	if n := len(ingesttest.DeadLetters(t, fx.env)); n != 0 {
		t.Errorf("%d dead letters from refused requests", n)
	}
	for reason, want := range map[string]float64{"missing": 1, "invalid": 8, "unsigned": 2, "bad_signature": 4, "replayed": 1, "stale": 2} {
		if got := ingesttest.Metric(t, fx.reg, "trailwatch_ingest_http_auth_failures_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("auth_failures_total{reason=%s} = %v, want %v", reason, got, want)
		}
	}
	if got := ingesttest.Metric(t, fx.reg, "trailwatch_ingest_http_requests_total", map[string]string{"source": noSource, "code": "401"}); got != 9 {
		t.Errorf("unauthenticated 401s = %v, want 9 (the others were identified, then refused)", got)
	}
}

// TestReplayCacheIsBounded: past its size the cache forgets the oldest
// signature and refuses timestamps at or before it, so a replay is never
// accepted however many requests come.
func TestReplayCacheIsBounded(t *testing.T) {
	c := newReplayCache(3)
	sig := func(i int) [sha256.Size]byte { return sha256.Sum256([]byte(strconv.Itoa(i))) }
	for i := 1; i <= 3; i++ {
		if got := c.add(sig(i), int64(i*10), 0); got != replayNew {
			t.Fatalf("signature %d: %v", i, got)
		}
	}
	if got := c.add(sig(2), 20, 0); got != replaySeen {
		t.Fatalf("replay: %v", got)
	}
	if got := c.add(sig(4), 40, 0); got != replayNew { // evicts 10, floor 10
		t.Fatalf("fourth: %v", got)
	}
	if got := c.add(sig(1), 10, 0); got != replayTooOld {
		t.Fatalf("replay of the evicted signature: %v", got)
	}
	if got := c.add(sig(5), 5, 0); got != replayTooOld {
		t.Fatalf("a new signature below the floor: %v", got)
	}
	if got := c.add(sig(6), 45, 35); got != replayNew || len(c.seen) != 2 {
		t.Fatalf("after expiry: %v, %d remembered", got, len(c.seen))
	}
}

// TestLogsHoldNoSecretsOrContent sends accepted, rejected and refused
// requests (good and wrong tokens, a signed request with a bad signature,
// malformed lines) whose events carry a marker in a personal field, and
// reads everything the collector logged at debug level: the requests are
// logged, but never a token, a secret, a signature or a field of an event.
func TestLogsHoldNoSecretsOrContent(t *testing.T) {
	fx := newFixture(t, nil)
	const marker = "jane.marker@example.com"
	now := time.Now()
	ev := strings.Replace(string(ingesttest.Event(1, now)), `"user":{`, `"user":{"name":"`+marker+`",`, 1)
	if !strings.Contains(ev, marker) {
		t.Fatalf("the marker is not in the event: %s", ev)
	}
	bad := `{"id":"x","tenant":"acme","user":{"name":"` + marker + `"},"timestamp":"soon"}`
	body := []byte(ev + "\n" + bad + "\n")
	post(t, fx.url, EventsPath, bearer(crmToken), body)
	post(t, fx.url, EventsPath, bearer("wrong-"+crmToken), body)
	post(t, fx.url, EventsPath, signed("signed", "not-the-secret", EventsPath, body, now), body)
	post(t, fx.url, EventsPath, signed("signed", signedSecret, EventsPath, body, now), body)
	logs := fx.logs.String()
	if !strings.Contains(logs, `"message":"request"`) || !strings.Contains(logs, "not authenticated") {
		t.Fatalf("the collector logged no request or refusal, so this test would prove nothing:\n%s", logs)
	}
	for _, secret := range []string{crmToken, signedSecret, "not-the-secret", marker, "soon"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q:\n%s", secret, logs)
		}
	}
}

// TestTimestampFarInTheFutureIsStale: a signed timestamp so far ahead that
// the difference from the clock overflows time.Duration (a sender signing
// Unix nanoseconds instead of milliseconds, or the largest int64) must be
// refused as stale like any other out-of-tolerance timestamp. Accepted, it
// would also sit in the replay cache for ever and, once evicted, raise the
// cache's floor above every honest timestamp: the source locked out.
func TestTimestampFarInTheFutureIsStale(t *testing.T) {
	fx := newFixture(t, nil)
	now := time.Now()
	body := ingesttest.Event(1, now)
	for name, ms := range map[string]int64{
		"unix nanoseconds": now.UnixNano(),
		"max int64":        math.MaxInt64,
		"min int64":        math.MinInt64,
	} {
		t.Run(name, func(t *testing.T) {
			stamp := strconv.FormatInt(ms, 10)
			h := map[string]string{HeaderSource: "signed", HeaderTimestamp: stamp,
				HeaderSignature: Sign([]byte(signedSecret), stamp, EventsPath, body)}
			r := post(t, fx.url, EventsPath, h, body)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.errorResponse(t).Error, "server's clock") {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		})
	}
	if ids := ingesttest.Published(t, fx.env); len(ids) != 0 {
		t.Errorf("published %v", ids)
	}
}

// TestReplayAfterTheClockStepsBack: the replay cache forgets signatures
// older than the tolerance as measured by the newest clock reading it has
// seen. A request whose clock reading is earlier (the wall clock stepped
// back, or simply a concurrent request that read the clock before another
// one pruned the cache) must still not get a forgotten signature through.
func TestReplayAfterTheClockStepsBack(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.SignatureTolerance = time.Minute })
	base := time.Now()
	clock := base
	fx.srv.now = func() time.Time { return clock }

	first := ingesttest.Event(1, base)
	captured := signed("signed", signedSecret, EventsPath, first, base)
	if r := post(t, fx.url, EventsPath, captured, first); r.status != http.StatusOK {
		t.Fatalf("first request: %d %s", r.status, r.body)
	}
	// An honest request 61 s later prunes the first signature.
	clock = base.Add(61 * time.Second)
	second := ingesttest.Event(2, base)
	if r := post(t, fx.url, EventsPath, signed("signed", signedSecret, EventsPath, second, clock), second); r.status != http.StatusOK {
		t.Fatalf("second request: %d %s", r.status, r.body)
	}
	// The clock reads 2 s earlier: the captured request is within the
	// tolerance again by this reading, but it was seen.
	clock = base.Add(59 * time.Second)
	if r := post(t, fx.url, EventsPath, captured, first); r.status != http.StatusUnauthorized {
		t.Fatalf("replay of a pruned signature: %d %s", r.status, r.body)
	}
}

// TestReplayWithAnotherSpellingOfTheSignature: hex is case-insensitive, so
// the same signature in capitals is the same signature, and a replay.
func TestReplayWithAnotherSpellingOfTheSignature(t *testing.T) {
	fx := newFixture(t, nil)
	body := ingesttest.Event(1, time.Now())
	h := signed("signed", signedSecret, EventsPath, body, time.Now())
	if r := post(t, fx.url, EventsPath, h, body); r.status != http.StatusOK {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	h[HeaderSignature] = "v1=" + strings.ToUpper(strings.TrimPrefix(h[HeaderSignature], "v1="))
	if r := post(t, fx.url, EventsPath, h, body); r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "used before") {
		t.Fatalf("replay in capitals: %d %s", r.status, r.body)
	}
}

// TestCredentialsOnlyFromHeaders: a token in the query string or in the
// body, or a token with its scheme misspelt, authenticates nothing.
func TestCredentialsOnlyFromHeaders(t *testing.T) {
	fx := newFixture(t, nil)
	body := ingesttest.Event(1, time.Now())
	for _, tc := range []struct {
		target  string
		headers map[string]string
	}{
		{EventsPath + "?access_token=" + crmToken, nil},
		{EventsPath + "?token=" + crmToken, nil},
		{EventsPath, map[string]string{"Authorization": "Token " + crmToken}},
		{EventsPath, map[string]string{"Authorization": crmToken}},
		{EventsPath, map[string]string{"Authorization": "Bearer"}},
		{EventsPath, map[string]string{"Authorization": "Bearer "}},
		{EventsPath, map[string]string{"X-Trailwatch-Token": crmToken}},
	} {
		if r := post(t, fx.url, tc.target, tc.headers, body); r.status != http.StatusUnauthorized {
			t.Errorf("%s %v: %d %s", tc.target, tc.headers, r.status, r.body)
		}
	}
	if ids := ingesttest.Published(t, fx.env); len(ids) != 0 {
		t.Errorf("published %v", ids)
	}
}
