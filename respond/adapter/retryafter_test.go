package adapter

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 3, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 120 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"99999999999999999999999", maxAdvisedWait, true},
		{"86401", maxAdvisedWait, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Tue, 03 Nov 2026 07:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 03-Nov-26 07:00:30 GMT", 30 * time.Second, true}, // RFC 850, still allowed
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseResetEpoch(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1800000042", 42 * time.Second, true},
		{"1799999000", 0, true},
		{"", 0, false},
		{"1800000042.5", 0, false},
		{"9999999999999999999999", maxAdvisedWait, true},
	}
	for _, tt := range tests {
		got, ok := ParseResetEpoch(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseResetEpoch(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAdvisedWaitTakesTheLonger(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	h.Set("Retry-After", "5")
	h.Set("X-Rate-Limit-Reset", "1800000060")
	if got := AdvisedWait(h, "X-Rate-Limit-Reset", now); got != time.Minute {
		t.Fatalf("got %v, want 1m", got)
	}
	if got := AdvisedWait(h, "", now); got != 5*time.Second {
		t.Fatalf("without reset header: got %v, want 5s", got)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Tue, 03 Nov 2026 07:00:30 GMT", "-1", "1e9", "99999999999999999999", " 3"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 3, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || d > maxAdvisedWait {
			t.Fatalf("ParseRetryAfter(%q) = %v outside [0, %v]", s, d, maxAdvisedWait)
		}
		if !ok && d != 0 {
			t.Fatalf("invalid value %q gave a wait %v", s, d)
		}
		d, _ = ParseResetEpoch(s, now)
		if d < 0 || d > maxAdvisedWait {
			t.Fatalf("ParseResetEpoch(%q) = %v outside [0, %v]", s, d, maxAdvisedWait)
		}
	})
}
