package salesforce

import (
	"strings"
	"testing"
	"time"
)

func TestID18(t *testing.T) {
	tests := []struct{ in, want string }{
		// 15/18 pairs published by Salesforce in its documentation (the 18
		// forms appear as example values; the 15 forms are their prefixes).
		{"00OB00000032FHd", "00OB00000032FHdMAM"}, // ReportEvent.ReportId
		{"00BB0000001c73k", "00BB0000001c73kMAA"}, // ListViewEvent.ListViewId
		{"005B0000001vURv", "005B0000001vURvIAM"}, // OwnerId
		{"0YaB000002knVQL", "0YaB000002knVQLKA2"}, // LoginHistoryId
		{"0H4RM00000000Kr", "0H4RM00000000Kr0AI"}, // ApiEvent.ConnectedAppId
		{"001A0000006Vm9r", "001A0000006Vm9rIAC"},
		{"005000000000123", "005000000000123AAA"}, // no letters: AAA
		// 18 characters stay as they are.
		{"005B0000001vURvIAM", "005B0000001vURvIAM"},
		// A case-folded 18-character id is restored from its suffix.
		{"005b0000001vurviam", "005B0000001vURvIAM"},
		{"00OB00000032FHDMAM", "00OB00000032FHdMAM"},
	}
	for _, tt := range tests {
		got, err := ID18(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ID18(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	// Every 15-character id round-trips: the 18 form's own check passes and
	// folding its case and restoring gives it back.
	for _, tt := range tests[:7] {
		back, err := ID18(strings.ToLower(tt.want))
		if err != nil || back != tt.want {
			t.Errorf("restore(%q) = %q, %v", strings.ToLower(tt.want), back, err)
		}
	}
}

func TestID18Rejects(t *testing.T) {
	for _, in := range []string{
		"", "005", "005B0000001vURvI", "005B0000001vURvIAMX",
		"005B0000001vUR-", // not alphanumeric
		// The ELF documentation's USER_ID_DERIVED example: its suffix says the
		// fourth character of the first chunk ('9') is an upper-case letter.
		"00590000000I1SNIA0",
		"005B0000001vURvIA!",
	} {
		if got, err := ID18(in); err == nil {
			t.Errorf("ID18(%q) = %q, want an error", in, got)
		}
	}
}

func TestObjectType(t *testing.T) {
	for id, want := range map[string]string{"001B000000fewaiIAA": "account", "00e300000000001": "profile", "00E300000000001": "role", "a0X000000000001": "", "": ""} {
		if got := ObjectType(id); got != want {
			t.Errorf("ObjectType(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 3, 13, 2, 11, 204e6, time.UTC)
	for _, in := range []string{
		"2026-11-03T13:02:11.204+0000", // REST: no colon in the offset
		"2026-11-03T13:02:11.204Z",     // CometD
		"2026-11-03T13:02:11.204+00:00",
		"2026-11-03T08:02:11.204-0500",   // an offset is honoured, the result is UTC
		"20261103130211.204",             // ELF TIMESTAMP, GMT
		"2026-11-03T13:02:11.204999999Z", // finer than milliseconds is cut
	} {
		got, err := ParseTimeString(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTimeString(%q) = %v, %v; want %v in UTC", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "2026-11-03", "2026-11-03T13:02:11", "20261103", "0000-01-01T00:00:00Z", "2026-13-03T13:02:11Z"} {
		if _, err := ParseTimeString(in); err == nil {
			t.Errorf("ParseTimeString(%q): want an error", in)
		}
	}
	if _, err := ParseELFTimestamp("2026-11-03T13:02:11.204Z"); err == nil {
		t.Error("ParseELFTimestamp took an ISO time for TIMESTAMP")
	}
}
