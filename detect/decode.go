package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// DecodeEvent decodes one canonical event from JSON. It is the one place
// this package (rule tests, replay, benchmarks) decodes events: a stand-in
// with encoding/json and the contract's basic checks until the schema
// package's validating decoder (event.Decode) lands, when it becomes a
// one-line call to it.
func DecodeEvent(b []byte) (*event.Event, error) {
	// One pass: the wire type shadows the optional numbers with pointers,
	// so presence is known (encoding/json cannot tell absent from zero).
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("invalid event: %w", err)
	}
	ev := &w.Event
	if w.Records != nil {
		ev.Records, ev.HasRecords = *w.Records, true
	}
	c := w.Client
	ev.Client = event.Client{IP: c.IP, UserAgent: c.UserAgent, DeviceID: c.DeviceID, SessionID: c.SessionID, AccessMethod: c.AccessMethod,
		Geo: event.Geo{Country: c.Geo.Country, Region: c.Geo.Region, City: c.Geo.City}}
	if c.Geo.Lat != nil && c.Geo.Lon != nil {
		ev.Client.Geo.Lat, ev.Client.Geo.Lon, ev.Client.Geo.HasCoords = *c.Geo.Lat, *c.Geo.Lon, true
	}
	if err := checkEvent(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// wireEvent is the JSON form: the event with its optional numbers as
// pointers (the outer fields shadow the embedded ones of the same name).
type wireEvent struct {
	event.Event
	Records *int64     `json:"records"`
	Client  wireClient `json:"client"`
}

type wireClient struct {
	IP           string  `json:"ip,omitempty"`
	UserAgent    string  `json:"user_agent,omitempty"`
	DeviceID     string  `json:"device_id,omitempty"`
	SessionID    string  `json:"session_id,omitempty"`
	AccessMethod string  `json:"access_method,omitempty"`
	Geo          wireGeo `json:"geo"`
}

type wireGeo struct {
	Country string   `json:"country,omitempty"`
	Region  string   `json:"region,omitempty"`
	City    string   `json:"city,omitempty"`
	Lat     *float64 `json:"lat"`
	Lon     *float64 `json:"lon"`
}

func checkEvent(ev *event.Event) error {
	var errs []error
	if ev.ID == "" || len(ev.ID) > 128 {
		errs = append(errs, errors.New("id: required (1-128 characters)"))
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
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("invalid event: %s", strings.Join(msgs, "; "))
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
