package eventwire

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// TimestampLayout is the contract's timestamp form: RFC 3339 with
// milliseconds and the offset.
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// MaxEventBytes is the contract's limit on one encoded event.
const MaxEventBytes = 64 << 10

type wireEvent struct {
	ID         string            `json:"id"`
	Timestamp  string            `json:"timestamp"`
	Tenant     string            `json:"tenant"`
	Source     event.Source      `json:"source"`
	Event      event.Activity    `json:"event"`
	User       event.User        `json:"user"`
	Client     *wireClient       `json:"client,omitempty"`
	Object     *event.Object     `json:"object,omitempty"`
	Changes    []event.Change    `json:"changes,omitempty"`
	Records    *int64            `json:"records,omitempty"`
	Comment    string            `json:"comment,omitempty"`
	Related    []event.Related   `json:"related,omitempty"`
	TargetUser *event.TargetUser `json:"target_user,omitempty"`
	Permission *event.Permission `json:"permission,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

type wireClient struct {
	IP           string   `json:"ip,omitempty"`
	UserAgent    string   `json:"user_agent,omitempty"`
	DeviceID     string   `json:"device_id,omitempty"`
	SessionID    string   `json:"session_id,omitempty"`
	AccessMethod string   `json:"access_method,omitempty"`
	Geo          *wireGeo `json:"geo,omitempty"`
}

type wireGeo struct {
	Country string   `json:"country,omitempty"`
	Region  string   `json:"region,omitempty"`
	City    string   `json:"city,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
}

// AppendJSON appends ev as one line of canonical JSON (no trailing newline)
// to dst. It fails if the event is over the contract's 64 KiB limit.
func AppendJSON(dst []byte, ev *event.Event) ([]byte, error) {
	w := wireEvent{
		ID:        ev.ID,
		Timestamp: ev.Timestamp.Format(TimestampLayout),
		Tenant:    ev.Tenant,
		Source:    ev.Source,
		Event:     ev.Event,
		User:      ev.User,
		Changes:   ev.Changes,
		Comment:   ev.Comment,
		Related:   ev.Related,
		Labels:    ev.Labels,
	}
	if ev.HasRecords {
		r := ev.Records
		w.Records = &r
	}
	if ev.Object != (event.Object{}) {
		o := ev.Object
		w.Object = &o
	}
	if ev.TargetUser != (event.TargetUser{}) {
		t := ev.TargetUser
		w.TargetUser = &t
	}
	if ev.Permission != (event.Permission{}) {
		p := ev.Permission
		w.Permission = &p
	}
	c := ev.Client
	wc := wireClient{IP: c.IP, UserAgent: c.UserAgent, DeviceID: c.DeviceID, SessionID: c.SessionID, AccessMethod: c.AccessMethod}
	g := c.Geo
	if g.Country != "" || g.Region != "" || g.City != "" || g.HasCoords {
		wg := wireGeo{Country: g.Country, Region: g.Region, City: g.City}
		if g.HasCoords {
			lat, lon := g.Lat, g.Lon
			wg.Lat, wg.Lon = &lat, &lon
		}
		wc.Geo = &wg
	}
	if wc != (wireClient{}) {
		w.Client = &wc
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return dst, fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(out) > MaxEventBytes {
		return dst, fmt.Errorf("event %s is %d bytes encoded, over the %d-byte limit", ev.ID, len(out), MaxEventBytes)
	}
	return append(dst, out...), nil
}
