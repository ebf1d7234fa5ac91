package deadletter_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/deadletter"
)

var at = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("CET", 3600))

func TestRecordShape(t *testing.T) {
	raw := []byte(`{"id":"e1","timestamp":"2026-03-01T09:00:00"}`)
	sum := sha256.Sum256(raw)
	rec := deadletter.NewRecord("ingest", deadletter.Reject{
		Raw:    raw,
		Reason: "timestamp: no UTC offset",
		Field:  "timestamp",
		Origin: deadletter.FromFile("salesforce", "events.ndjson", 12),
	}, deadletter.MaxRaw, at)
	got, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"stage":"ingest","reason":"timestamp: no UTC offset","field":"timestamp",` +
		`"raw":"{\"id\":\"e1\",\"timestamp\":\"2026-03-01T09:00:00\"}","raw_size":45,` +
		`"raw_sha256":"` + hex.EncodeToString(sum[:]) + `",` +
		`"origin":{"source":"salesforce","collector":"file","file":"events.ndjson","line":12},` +
		`"received_at":"2026-03-01T08:00:00.123456789Z"}`
	if string(got) != want {
		t.Errorf("record JSON\n got %s\nwant %s", got, want)
	}
}

func TestRecordRaw(t *testing.T) {
	euro := "€" // 3 bytes
	for _, tc := range []struct {
		name      string
		raw       []byte
		max       int
		wantRaw   *string
		wantB64   bool
		truncated bool
	}{
		{"utf-8", []byte("héllo"), 100, ptr("héllo"), false, false},
		{"empty", []byte{}, 100, ptr(""), false, false},
		{"binary", []byte{0xff, 0xfe, 'a'}, 100, nil, true, false},
		{"ends in a partial rune", []byte("ab\xe2\x82"), 100, nil, true, false},
		{"cut inside a rune", []byte("ab" + euro + "cd"), 4, ptr("ab"), false, true},
		{"cut after a rune", []byte("ab" + euro + "cd"), 5, ptr("ab" + euro), false, true},
		{"binary cut", []byte{0xff, 1, 2, 3, 4}, 3, nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := deadletter.NewRecord("sink", deadletter.Reject{Raw: tc.raw, Reason: "r"}, tc.max, at)
			if (rec.Raw == nil) != (tc.wantRaw == nil) || rec.Raw != nil && *rec.Raw != *tc.wantRaw {
				t.Errorf("raw = %v, want %v", deref(rec.Raw), deref(tc.wantRaw))
			}
			if (rec.RawBase64 != nil) != tc.wantB64 {
				t.Errorf("raw_base64 = %v, want present=%v", deref(rec.RawBase64), tc.wantB64)
			}
			if rec.RawTruncated != tc.truncated || rec.RawSize != len(tc.raw) {
				t.Errorf("truncated %v size %d, want %v %d", rec.RawTruncated, rec.RawSize, tc.truncated, len(tc.raw))
			}
			b, _ := json.Marshal(rec)
			back, err := deadletter.Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			raw, err := back.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !tc.truncated && !bytes.Equal(raw, tc.raw) {
				t.Errorf("round trip gave %q, want %q", raw, tc.raw)
			}
			if tc.truncated && !bytes.HasPrefix(tc.raw, raw) {
				t.Errorf("truncated round trip gave %q, not a prefix of %q", raw, tc.raw)
			}
		})
	}
}

func TestFromKafkaKeepsPartitionZero(t *testing.T) {
	b, _ := json.Marshal(deadletter.FromKafka("crm.activity", 0, 0))
	if string(b) != `{"collector":"kafka","topic":"crm.activity","partition":0,"offset":0}` {
		t.Errorf("origin %s", b)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := deadletter.NewRecord("ingest", deadletter.Reject{Raw: []byte("x"), Reason: "r"}, 10, at)
	for _, tc := range []struct {
		name   string
		change func(*deadletter.Record)
		want   string
	}{
		{"version", func(r *deadletter.Record) { r.V = 2 }, "v: 2"},
		{"stage", func(r *deadletter.Record) { r.Stage = "" }, "stage: required"},
		{"reason", func(r *deadletter.Record) { r.Reason = "" }, "reason: required"},
		{"both raws", func(r *deadletter.Record) { r.RawBase64 = ptr("eA==") }, "both raw and raw_base64"},
		{"tampered", func(r *deadletter.Record) { r.Raw = ptr("y") }, "does not match"},
		{"received_at", func(r *deadletter.Record) { r.ReceivedAt = time.Time{} }, "received_at: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.change(&r)
			b, _ := json.Marshal(r)
			if _, err := deadletter.Decode(b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode: %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := deadletter.Decode([]byte("{")); err == nil {
		t.Error("Decode accepted broken JSON")
	}
}

func FuzzRecordRoundTrip(f *testing.F) {
	f.Add([]byte(`{"id":"e1"}`), "bad", 64)
	f.Add([]byte{0xff, 0x00, 0xe2, 0x82, 0xac}, "binary", 2)
	f.Add([]byte("ab€cd"), "cut", 4)
	f.Fuzz(func(t *testing.T, raw []byte, reason string, max int) {
		if max < 0 || max > 1<<20 {
			max = 64
		}
		if reason == "" {
			reason = "r"
		}
		rec := deadletter.NewRecord("ingest", deadletter.Reject{Raw: raw, Reason: reason}, max, at)
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		back, err := deadletter.Decode(b)
		if err != nil {
			t.Fatalf("Decode of a fresh record: %v", err)
		}
		got, err := back.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if rec.RawTruncated != (len(raw) > max) {
			t.Fatalf("truncated=%v for %d bytes, max %d", rec.RawTruncated, len(raw), max)
		}
		if !rec.RawTruncated && !bytes.Equal(got, raw) {
			t.Fatalf("round trip %q != %q", got, raw)
		}
		if rec.RawTruncated && (!bytes.HasPrefix(raw, got) || len(got) > max) {
			t.Fatalf("truncated round trip %q is not a prefix of at most %d bytes of %q", got, max, raw)
		}
		if back.Reason != strings.ToValidUTF8(deadletter.RedactReason(reason), "\uFFFD") {
			t.Fatalf("reason %q != %q", back.Reason, reason)
		}
	})
}

func FuzzDecode(f *testing.F) {
	b, _ := json.Marshal(deadletter.NewRecord("ingest", deadletter.Reject{Raw: []byte("x"), Reason: "r"}, 10, at))
	f.Add(b)
	f.Add([]byte(`{"v":1,"raw_base64":"!!"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := deadletter.Decode(b)
		if err != nil {
			return
		}
		if _, err := rec.Bytes(); err != nil {
			t.Fatalf("Decode accepted a record whose bytes do not decode: %v", err)
		}
	})
}

func ptr(s string) *string { return &s }

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func TestRedactReason(t *testing.T) {
	for in, want := range map[string]string{
		"timestamp: no UTC offset":                                   "timestamp: no UTC offset",
		`client.ip: "4111 1111 1111 1111" is not an IPv4 address`:    `client.ip: "…" is not an IPv4 address`,
		`labels["ssn"]: "123-45-6789" is longer than "x"`:            `labels["…"]: "…" is longer than "…"`,
		`id: "a\"b@x.example" is already in this batch`:              `id: "…" is already in this batch`,
		`event.category: "jane@acme.example..." is not one of login`: `event.category: "…" is not one of login`,
		`open "jane@acme.example`:                                    `open "…"`,
		`""`:                                                         `"…"`,
	} {
		if got := deadletter.RedactReason(in); got != want {
			t.Errorf("RedactReason(%q) = %q, want %q", in, got, want)
		}
	}
	rec := deadletter.NewRecord("ingest", deadletter.Reject{Raw: []byte("x"), Reason: `user.timezone: "Jane Doe" is not an IANA time zone name`}, 10, at)
	if rec.Reason != `user.timezone: "…" is not an IANA time zone name` {
		t.Errorf("record reason %q", rec.Reason)
	}
}

// FuzzRedactReason: what RedactReason leaves holds no quoted text but …,
// and redacting again changes nothing.
func FuzzRedactReason(f *testing.F) {
	for _, s := range []string{`a: "b" c`, `"\"x\\"`, `open "x`, `labels["k"]: "v"`, `no quotes`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := deadletter.RedactReason(s)
		if again := deadletter.RedactReason(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
		}
		parts := strings.Split(got, `"`)
		for i := 1; i < len(parts); i += 2 {
			if parts[i] != deadletter.Redacted {
				t.Fatalf("%q → %q keeps quoted text %q", s, got, parts[i])
			}
		}
	})
}
