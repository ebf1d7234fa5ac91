package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/respond/adapter/webhook"
)

func TestSignMatchesTheDocumentedScheme(t *testing.T) {
	// The scheme, as a receiver in another language would implement it.
	ts := time.Unix(1_800_000_000, 0)
	body := []byte(`{"operation":"freeze","account":"u1"}`)
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("1800000000." + string(body)))
	want := "v1=" + hex.EncodeToString(m.Sum(nil))

	gotTS, gotSig := webhook.Sign(ts, body, []byte("k"))
	if gotTS != "1800000000" || gotSig != want {
		t.Fatalf("Sign = %s, %s; want 1800000000, %s", gotTS, gotSig, want)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"operation":"status","account":"u1"}`)
	ts, sig := webhook.Sign(now, body, []byte("current"), []byte("old"))
	_, otherSig := webhook.Sign(now, body, []byte("other"))

	tests := []struct {
		name   string
		secret string
		ts     string
		sig    string
		body   []byte
		now    time.Time
		want   error
	}{
		{"current secret", "current", ts, sig, body, now, nil},
		{"old secret during rotation", "old", ts, sig, body, now, nil},
		{"clock skew inside tolerance", "current", ts, sig, body, now.Add(4 * time.Minute), nil},
		{"wrong secret", "nope", ts, sig, body, now, webhook.ErrMismatch},
		{"tampered body", "current", ts, sig, []byte(`{"operation":"unfreeze","account":"u1"}`), now, webhook.ErrMismatch},
		{"replayed later", "current", ts, sig, body, now.Add(6 * time.Minute), webhook.ErrStale},
		{"from the future", "current", ts, sig, body, now.Add(-6 * time.Minute), webhook.ErrStale},
		{"timestamp moved", "current", "1800000001", sig, body, now, webhook.ErrMismatch},
		{"no timestamp", "current", "", sig, body, now, webhook.ErrBadTimestamp},
		{"negative timestamp", "current", "-1800000000", sig, body, now, webhook.ErrBadTimestamp},
		{"no signature", "current", ts, "", body, now, webhook.ErrNoSignature},
		{"only unknown schemes", "current", ts, "v0=abc", body, now, webhook.ErrNoSignature},
		{"short hex", "current", ts, "v1=abcd", body, now, webhook.ErrBadSignature},
		{"not hex", "current", ts, "v1=" + strings.Repeat("zz", 32), body, now, webhook.ErrBadSignature},
		{"no equals", "current", ts, "v1", body, now, webhook.ErrBadSignature},
		{"other secret's signature", "current", ts, otherSig, body, now, webhook.ErrMismatch},
		{"good one among many", "current", ts, "v2=whatever, " + otherSig + " ," + sig, body, now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify([]byte(tt.secret), tt.ts, tt.sig, tt.body, tt.now, webhook.DefaultTolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseSignatureHeaderBoundsEntries(t *testing.T) {
	one := "v1=" + strings.Repeat("ab", 32)
	if _, err := webhook.ParseSignatureHeader(strings.Repeat(one+",", 8) + one); !errors.Is(err, webhook.ErrBadSignature) {
		t.Fatalf("9 signatures: err = %v", err)
	}
	if sigs, err := webhook.ParseSignatureHeader(strings.Repeat(one+",", 7) + one); err != nil || len(sigs) != 8 {
		t.Fatalf("8 signatures: %d, %v", len(sigs), err)
	}
}

func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{"", "v1=" + strings.Repeat("0", 64), "v1=a,v0=b", ",,,", "v1==", "v2=x, v1=" + strings.Repeat("f", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		sigs, err := webhook.ParseSignatureHeader(h)
		if err == nil && (len(sigs) == 0 || len(sigs) > 8) {
			t.Fatalf("%d signatures without error", len(sigs))
		}
		for _, s := range sigs {
			if len(s) != sha256.Size {
				t.Fatalf("signature of %d bytes", len(s))
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	ts, sig := webhook.Sign(now, []byte("{}"), []byte("k"))
	f.Add(ts, sig, []byte("{}"))
	f.Add("", "", []byte(nil))
	f.Add("99999999999999999999", sig, []byte("{}"))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		err := webhook.Verify([]byte("k"), ts, sig, body, now, webhook.DefaultTolerance)
		if err == nil {
			// Only a real signature over this exact input may pass.
			_, wantSig := webhook.Sign(now, body, []byte("k"))
			sigs, _ := webhook.ParseSignatureHeader(sig)
			m := hmac.New(sha256.New, []byte("k"))
			m.Write([]byte(ts + "." + string(body)))
			ok := false
			for _, s := range sigs {
				ok = ok || hmac.Equal(s, m.Sum(nil))
			}
			if !ok {
				t.Fatalf("accepted ts=%q sig=%q (a valid one is %s)", ts, sig, wantSig)
			}
		}
	})
}
