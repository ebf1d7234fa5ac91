package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// DecodeEvent decodes one canonical event from JSON. It is the one place
// this package (rule tests, replay, benchmarks) decodes events: a stand-in
// with encoding/json and the contract's basic checks until the schema
// package's validating decoder (event.Decode) lands, when it becomes a
// one-line call to it.
func DecodeEvent(b []byte) (*event.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	ev := new(event.Event)
	if err := dec.Decode(ev); err != nil {
		return nil, fmt.Errorf("invalid event: %w", err)
	}
	// encoding/json cannot tell an absent number from zero: read the
	// presence of records and coordinates separately.
	var presence struct {
		Records *int64 `json:"records"`
		Client  struct {
			Geo struct {
				Lat *float64 `json:"lat"`
				Lon *float64 `json:"lon"`
			} `json:"geo"`
		} `json:"client"`
	}
	if err := json.Unmarshal(b, &presence); err != nil {
		return nil, fmt.Errorf("invalid event: %w", err)
	}
	ev.HasRecords = presence.Records != nil
	ev.Client.Geo.HasCoords = presence.Client.Geo.Lat != nil && presence.Client.Geo.Lon != nil
	if err := checkEvent(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

func checkEvent(ev *event.Event) error {
	var errs []error
	if ev.ID == "" || len(ev.ID) > 128 {
		errs = append(errs, errors.New("id: required, 1-128 characters"))
	}
	if ev.Timestamp.IsZero() {
		errs = append(errs, errors.New("timestamp: required"))
	}
	if ev.Tenant == "" {
		errs = append(errs, errors.New("tenant: required"))
	}
	if ev.Source.System == "" {
		errs = append(errs, errors.New("source.system: required"))
	}
	if !contains(event.Categories, ev.Event.Category) {
		errs = append(errs, fmt.Errorf("event.category: %q is not one of the contract's categories", ev.Event.Category))
	}
	if ev.Event.Action == "" {
		errs = append(errs, errors.New("event.action: required"))
	}
	if !contains(event.Outcomes, ev.Event.Outcome) {
		errs = append(errs, fmt.Errorf("event.outcome: %q must be success, failure or unknown", ev.Event.Outcome))
	}
	if ev.User.ID == "" {
		errs = append(errs, errors.New("user.id: required"))
	}
	if ev.Records < 0 {
		errs = append(errs, errors.New("records: must not be negative"))
	}
	if ev.HasRecords && ev.Records < 0 {
		errs = append(errs, errors.New("records: must not be negative"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid event: %w", errors.Join(errs...))
	}
	return nil
}

// EncodeEvent writes an event as canonical JSON (timestamps with
// milliseconds, absent optional numbers left out).
func EncodeEvent(ev *event.Event) ([]byte, error) {
	m := map[string]any{}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["timestamp"] = ev.Timestamp.Format("2006-01-02T15:04:05.000Z07:00")
	if !ev.HasRecords {
		delete(m, "records")
	}
	if geo, ok := m["client"].(map[string]any)["geo"].(map[string]any); ok && !ev.Client.Geo.HasCoords {
		delete(geo, "lat")
		delete(geo, "lon")
	}
	dropEmpty(m)
	return json.Marshal(m)
}

// dropEmpty removes empty objects (absent optional groups).
func dropEmpty(m map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			dropEmpty(sub)
			if len(sub) == 0 {
				delete(m, k)
			}
		}
	}
}

var _ = time.RFC3339
