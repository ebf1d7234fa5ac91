package salesforce

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
)

// Salesforce writes one instant in several forms depending on the channel:
//   - REST and SOAP queries: 2026-11-03T13:02:11.204+0000 (no colon in the
//     offset, which time.RFC3339 refuses);
//   - Streaming API (CometD) payloads: 2026-11-03T13:02:11.204Z;
//   - Pub/Sub API (Avro long): epoch milliseconds, a JSON number;
//   - Event Log File TIMESTAMP: 20261103130211.204, GMT, no zone written;
//   - Event Log File TIMESTAMP_DERIVED: 2026-11-03T13:02:11.204Z.
var stringLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05.999999999Z07:00", // RFC 3339, Z or ±hh:mm, any fraction
	"2006-01-02T15:04:05Z07:00",
}

// elfLayouts are Event Log File TIMESTAMP forms; they carry no zone and are GMT.
var elfLayouts = []string{"20060102150405.000", "20060102150405"}

const timeHint = "want 2026-11-03T13:02:11.204+0000, 2026-11-03T13:02:11.204Z or epoch milliseconds"

// Time reads a date-time field in any Salesforce wire form. Absent or null
// gives ok=false.
func Time(obj record.Object, key string) (t time.Time, ok bool, err error) {
	raw, ok := obj.Raw(key)
	if !ok {
		return time.Time{}, false, nil
	}
	t, err = parseRaw(raw)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", obj.Path(key), err)
	}
	return t, true, nil
}

// RequiredTime reads a date-time field that must be present.
func RequiredTime(obj record.Object, key string) (time.Time, error) {
	t, ok, err := Time(obj, key)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, obj.Missing(key)
	}
	return t, nil
}

func parseRaw(raw json.RawMessage) (time.Time, error) {
	text, err := record.ScalarText(raw)
	if err != nil || raw[0] == 't' || raw[0] == 'f' {
		return time.Time{}, fmt.Errorf("%s is not a Salesforce date-time (%s)", record.Clip(string(raw)), timeHint)
	}
	if raw[0] != '"' { // a JSON number: Pub/Sub epoch milliseconds
		ms, err := record.ParseInteger(text)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is not a Salesforce date-time (%s)", record.Quote(text), timeHint)
		}
		return inRange(time.UnixMilli(ms), text)
	}
	return ParseTimeString(text)
}

// ParseTimeString parses the string forms: REST (+0000), RFC 3339 (Z or
// ±hh:mm) and the Event Log File TIMESTAMP form (GMT).
func ParseTimeString(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range stringLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return inRange(t, s)
		}
	}
	for _, layout := range elfLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return inRange(t, s)
		}
	}
	return time.Time{}, fmt.Errorf("%s is not a Salesforce date-time (%s)", record.Quote(s), timeHint)
}

// ParseELFTimestamp parses an Event Log File TIMESTAMP (yyyyMMddHHmmss.SSS, GMT).
func ParseELFTimestamp(s string) (time.Time, error) {
	for _, layout := range elfLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return inRange(t, s)
		}
	}
	return time.Time{}, fmt.Errorf("%s is not an Event Log File TIMESTAMP (want yyyyMMddHHmmss.SSS in GMT, e.g. 20130715233322.670)", record.Quote(s))
}

// inRange keeps times an RFC 3339 timestamp can carry and that a CRM can
// have recorded; everything is returned in UTC at millisecond precision.
func inRange(t time.Time, text string) (time.Time, error) {
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return time.Time{}, fmt.Errorf("%s is out of range (year %d)", record.Quote(text), y)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}
