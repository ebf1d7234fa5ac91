package detect

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeEvent(t *testing.T) {
	e := decodeJSON(t, `{"id":"a","timestamp":"2026-11-03T02:14:07.412-05:00","tenant":"acme","source":{"system":"salesforce"},
		"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"u"},
		"client":{"ip":"198.51.100.23","geo":{"country":"US","lat":0,"lon":-71.06}},"records":0}`)
	if !e.HasRecords || e.Records != 0 || !e.Client.Geo.HasCoords || e.Client.Geo.Lat != 0 || e.Client.Geo.Lon != -71.06 || e.Client.IP != "198.51.100.23" {
		t.Errorf("presence: %+v", e)
	}
	if _, off := e.Timestamp.Zone(); off != -5*3600 || !e.Timestamp.Equal(time.Date(2026, 11, 3, 7, 14, 7, 412e6, time.UTC)) {
		t.Errorf("timestamp %v", e.Timestamp)
	}
	e = decodeJSON(t, `{"id":"a","timestamp":"2026-11-03T02:14:07Z","tenant":"acme","source":{"system":"s"},"event":{"category":"export","action":"export","outcome":"success"},"user":{"id":"u"},"client":{"geo":{"lat":1}}}`)
	if e.HasRecords || e.Client.Geo.HasCoords {
		t.Errorf("absent numbers read as present: %+v", e)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"id":"a"`, "unexpected EOF"},
		{`{"id":"a","bogus":1}`, `unknown field "bogus"`},
		{`{"id":"a","timestamp":"2026-11-03T02:14:07Z","tenant":"t","source":{"system":"s"},"event":{"category":"x","action":"a","outcome":"success"},"user":{"id":"u"}}`, `event.category: "x"`},
		{`{"id":"a","timestamp":"2026-11-03T02:14:07Z","tenant":"t","source":{"system":"s"},"event":{"category":"export","action":"a","outcome":"success"},"user":{"id":"u"},"records":-1}`, "records: must not be negative"},
		{`{}`, "id: required (1-128 characters); timestamp: required; tenant: required"},
	} {
		_, err := DecodeEvent([]byte(bad.in))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err %v, want %q", bad.in, err, bad.want)
		}
	}
	// Encoding and decoding again gives the same event.
	x := ev("id1", t0, "export", "export", records(5), geo(1, 2), country("FR"))
	b, err := EncodeEvent(x)
	if err != nil {
		t.Fatal(err)
	}
	y := decodeJSON(t, string(b))
	if y.Records != 5 || !y.HasRecords || !y.Client.Geo.HasCoords || y.Client.Geo.Country != "FR" || !y.Timestamp.Equal(t0) {
		t.Errorf("round trip: %s -> %+v", b, y)
	}
}
