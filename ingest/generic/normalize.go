package generic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Format is the registry name of the generic normaliser.
const Format = "generic"

// Normalizer returns the normaliser for this mapping.
func (m *Mapping) Normalizer() record.Normalizer { return normalizer{m} }

type normalizer struct{ m *Mapping }

func (n normalizer) Format() string    { return Format }
func (n normalizer) Kind() record.Kind { return record.JSON }

func (n normalizer) Normalize(rec record.Record, meta record.Meta) (event.Event, error) {
	if err := meta.Validate(); err != nil {
		return event.Event{}, err
	}
	if rec.Row != nil || rec.Data == nil {
		return event.Event{}, fmt.Errorf("format generic reads JSON records, not CSV rows")
	}
	return n.m.Normalize(rec.Data, meta)
}

// Normalize maps one JSON object.
func (m *Mapping) Normalize(data []byte, meta record.Meta) (event.Event, error) {
	if !utf8.Valid(data) {
		return event.Event{}, fmt.Errorf("record is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return event.Event{}, fmt.Errorf("record is not valid JSON: %w", err)
	}
	if dec.More() {
		return event.Event{}, fmt.Errorf("record holds more than one JSON value")
	}
	if _, ok := root.(map[string]any); !ok {
		return event.Event{}, fmt.Errorf("record is not a JSON object")
	}
	ev := event.Event{Tenant: meta.Tenant, Source: event.Source{System: m.system, Collector: meta.Collector}}
	if err := m.setID(&ev, root, data); err != nil {
		return event.Event{}, err
	}
	ts, err := m.timestamp(root)
	if err != nil {
		return event.Event{}, err
	}
	ev.Timestamp = ts
	labels := record.Labels{}
	var lat, lon float64
	var hasLat, hasLon bool
	for i := range m.rules {
		r := &m.rules[i]
		v, ok, err := r.value(root)
		if err != nil {
			return event.Event{}, err
		}
		if !ok {
			continue
		}
		switch r.target {
		case "client.geo.lat", "client.geo.lon":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return event.Event{}, fmt.Errorf("%s: %s is not a number", r.where(), record.Quote(v))
			}
			if r.target == "client.geo.lat" {
				lat, hasLat = f, true
			} else {
				lon, hasLon = f, true
			}
			continue
		}
		if err := set(&ev, labels, r.target, v); err != nil {
			return event.Event{}, fmt.Errorf("%s: %w", r.where(), err)
		}
	}
	if hasLat && hasLon {
		if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			return event.Event{}, fmt.Errorf("client.geo: %v,%v is not a latitude,longitude", lat, lon)
		}
		ev.Client.Geo.Lat, ev.Client.Geo.Lon, ev.Client.Geo.HasCoords = lat, lon, true
	}
	if m.changes != nil {
		if err := m.changes.apply(&ev, root); err != nil {
			return event.Event{}, err
		}
	}
	for _, t := range requiredTargets {
		if get(&ev, t) == "" {
			return event.Event{}, fmt.Errorf("%s: no value (its path is missing in this record and no default is configured)", t)
		}
	}
	ev.Labels = labels.Map()
	return ev, nil
}

func (m *Mapping) setID(ev *event.Event, root any, data []byte) error {
	if m.idPath == nil {
		canon, err := record.CanonicalJSON(data)
		if err != nil {
			return err
		}
		ev.ID = record.HashID(m.idPrefix, canon)
		return nil
	}
	v, ok := m.idPath.lookup(root)
	if !ok {
		return fmt.Errorf("id: path %s is missing", m.idPath.text)
	}
	s, err := text(v)
	if err != nil {
		return fmt.Errorf("id: path %s %v", m.idPath.text, err)
	}
	id, err := record.SourceID(m.idPrefix, s, "id: path "+m.idPath.text)
	if err != nil {
		return err
	}
	ev.ID = id
	if !m.hasSource {
		ev.Source.ID = s
	}
	return nil
}

func (m *Mapping) timestamp(root any) (time.Time, error) {
	ts := &m.ts
	v, ok := ts.path.lookup(root)
	if !ok {
		return time.Time{}, fmt.Errorf("timestamp: path %s is missing", ts.path.text)
	}
	s, err := text(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: path %s %v", ts.path.text, err)
	}
	var t time.Time
	switch ts.format {
	case "rfc3339":
		t, err = time.Parse(time.RFC3339Nano, s)
	case "epoch_ms", "epoch_s":
		var n int64
		n, err = record.ParseInteger(strings.TrimSpace(s))
		if err == nil && ts.format == "epoch_s" {
			if n > 1<<43 || n < -(1<<43) {
				err = fmt.Errorf("out of range")
			}
			n *= 1000
		}
		t = time.UnixMilli(n)
	case "layout":
		t, err = time.ParseInLocation(ts.layout, s, ts.loc)
	}
	if err == nil {
		if y := t.UTC().Year(); y < 1970 || y > 9999 {
			err = fmt.Errorf("year %d is out of range", y)
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: path %s: %s is not a %s time", ts.path.text, record.Quote(s), ts.format)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

func (r *rule) where() string {
	if r.path != nil {
		return fmt.Sprintf("%s (path %s)", r.target, r.path.text)
	}
	return r.target
}

// value evaluates a rule: the constant, or the value at its path (default
// when missing), through its map and transform.
func (r *rule) value(root any) (string, bool, error) {
	if r.hasConst {
		return r.konst, true, nil
	}
	v, ok := r.path.lookup(root)
	if !ok {
		if r.hasDef {
			return r.def, true, nil
		}
		if r.required {
			return "", false, fmt.Errorf("%s: missing in this record (required)", r.where())
		}
		return "", false, nil
	}
	s, err := text(v)
	if err != nil {
		return "", false, fmt.Errorf("%s: %v", r.where(), err)
	}
	switch r.transform {
	case "upper":
		s = strings.ToUpper(s)
	case "lower":
		s = strings.ToLower(s)
	case "trim":
		s = strings.TrimSpace(s)
	}
	if r.valueMap != nil {
		mapped, ok := r.valueMap[s]
		switch {
		case ok:
			s = mapped
		case r.hasDef:
			s = r.def
		default:
			return "", false, fmt.Errorf("%s: value %s is not in the map and no default is configured", r.where(), record.Quote(s))
		}
	}
	if s == "" {
		return "", false, nil
	}
	return s, true, nil
}

// set writes one value into its canonical field, checking it as the
// contract would.
func set(ev *event.Event, labels record.Labels, target, v string) error {
	if err := checkTarget(target, v); err != nil {
		return err
	}
	if key, ok := strings.CutPrefix(target, "labels."); ok {
		labels.Set(key, v)
		return nil
	}
	switch target {
	case "client.ip":
		addr, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s is not an IP address", record.Quote(v))
		}
		v = addr.Unmap().String()
	case "records":
		n, _ := record.ParseInteger(v) // checked by checkTarget
		ev.Records, ev.HasRecords = n, true
		return nil
	}
	*field(ev, target) = v
	return nil
}

func get(ev *event.Event, target string) string { return *field(ev, target) }

// field is the string field of ev a target names.
func field(ev *event.Event, target string) *string {
	switch target {
	case "source.id":
		return &ev.Source.ID
	case "event.category":
		return &ev.Event.Category
	case "event.action":
		return &ev.Event.Action
	case "event.outcome":
		return &ev.Event.Outcome
	case "event.reason":
		return &ev.Event.Reason
	case "user.id":
		return &ev.User.ID
	case "user.name":
		return &ev.User.Name
	case "user.employee_id":
		return &ev.User.EmployeeID
	case "user.role":
		return &ev.User.Role
	case "user.department":
		return &ev.User.Department
	case "user.type":
		return &ev.User.Type
	case "user.timezone":
		return &ev.User.Timezone
	case "client.ip":
		return &ev.Client.IP
	case "client.user_agent":
		return &ev.Client.UserAgent
	case "client.device_id":
		return &ev.Client.DeviceID
	case "client.session_id":
		return &ev.Client.SessionID
	case "client.access_method":
		return &ev.Client.AccessMethod
	case "client.geo.country":
		return &ev.Client.Geo.Country
	case "client.geo.region":
		return &ev.Client.Geo.Region
	case "client.geo.city":
		return &ev.Client.Geo.City
	case "object.type":
		return &ev.Object.Type
	case "object.id":
		return &ev.Object.ID
	case "object.name":
		return &ev.Object.Name
	case "object.owner_id":
		return &ev.Object.OwnerID
	case "comment":
		return &ev.Comment
	case "target_user.id":
		return &ev.TargetUser.ID
	case "target_user.name":
		return &ev.TargetUser.Name
	case "permission.name":
		return &ev.Permission.Name
	case "permission.scope":
		return &ev.Permission.Scope
	}
	panic("generic: unhandled target " + target) // Targets and this switch are kept in step; a test checks every target
}

// apply reads changes from an array of objects.
func (c *changesRule) apply(ev *event.Event, root any) error {
	v, ok := c.path.lookup(root)
	if !ok {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		return fmt.Errorf("changes: path %s is not an array", c.path.text)
	}
	if len(arr) > 1000 {
		return fmt.Errorf("changes: path %s has %d entries, the contract allows 1000", c.path.text, len(arr))
	}
	for i, e := range arr {
		get := func(p path) (string, error) {
			x, ok := p.lookup(e)
			if !ok {
				return "", nil
			}
			s, err := text(x)
			if err != nil {
				return "", fmt.Errorf("changes: %s[%d].%s %v", c.path.text, i, p.text, err)
			}
			return s, nil
		}
		f, err := get(c.field)
		if err != nil {
			return err
		}
		if f == "" {
			return fmt.Errorf("changes: %s[%d].%s is missing (every change names its field)", c.path.text, i, c.field.text)
		}
		o, err := get(c.old)
		if err != nil {
			return err
		}
		n, err := get(c.new_)
		if err != nil {
			return err
		}
		ev.Changes = append(ev.Changes, event.Change{Field: f, Old: o, New: n})
	}
	return nil
}
