package eventwire

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Contract limits (shared/contracts/event.md, defaults).
const (
	MaxChanges = 1000
	MaxLabels  = 256
)

// Validate checks ev against the rules of the canonical event contract that
// do not depend on a clock (the age and future-skew limits belong to the
// ingest path, which knows its clock and whether it is replaying). It reports
// every problem at once.
func Validate(ev *event.Event) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	required := func(field, v string) {
		if v == "" {
			bad(field, "missing (required)")
		}
	}
	switch n := utf8.RuneCountInString(ev.ID); {
	case n == 0:
		bad("id", "missing (required)")
	case n > 128:
		bad("id", "%d characters, the limit is 128", n)
	}
	if ev.Timestamp.IsZero() {
		bad("timestamp", "missing (required)")
	} else if y := ev.Timestamp.Year(); y < 1 || y > 9999 {
		bad("timestamp", "year %d cannot be written in RFC 3339", y)
	}
	required("tenant", ev.Tenant)
	required("source.system", ev.Source.System)
	if !slices.Contains(event.Categories, ev.Event.Category) {
		bad("event.category", "%q is not one of %v", ev.Event.Category, event.Categories)
	}
	required("event.action", ev.Event.Action)
	if !slices.Contains(event.Outcomes, ev.Event.Outcome) {
		bad("event.outcome", "%q is not one of %v", ev.Event.Outcome, event.Outcomes)
	}
	required("user.id", ev.User.ID)
	if t := ev.User.Type; t != "" && !slices.Contains(event.UserTypes, t) {
		bad("user.type", "%q is not one of %v", t, event.UserTypes)
	}
	if ip := ev.Client.IP; ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			bad("client.ip", "%q is not an IPv4 or IPv6 address", ip)
		}
	}
	if m := ev.Client.AccessMethod; m != "" && !slices.Contains(event.AccessMethods, m) {
		bad("client.access_method", "%q is not one of %v", m, event.AccessMethods)
	}
	if c := ev.Client.Geo.Country; c != "" && !isAlpha2(c) {
		bad("client.geo.country", "%q is not an ISO 3166-1 alpha-2 code (two upper-case letters)", c)
	}
	if g := ev.Client.Geo; g.HasCoords {
		if math.IsNaN(g.Lat) || g.Lat < -90 || g.Lat > 90 {
			bad("client.geo.lat", "%v is not a latitude", g.Lat)
		}
		if math.IsNaN(g.Lon) || g.Lon < -180 || g.Lon > 180 {
			bad("client.geo.lon", "%v is not a longitude", g.Lon)
		}
	}
	if ev.HasRecords && ev.Records < 0 {
		bad("records", "%d is negative", ev.Records)
	}
	if !ev.HasRecords && ev.Records != 0 {
		bad("records", "%d set without HasRecords", ev.Records)
	}
	if n := len(ev.Changes); n > MaxChanges {
		bad("changes", "%d entries, the limit is %d", n, MaxChanges)
	}
	for i, c := range ev.Changes {
		if c.Field == "" {
			bad(fmt.Sprintf("changes[%d].field", i), "missing (required)")
		}
	}
	for i, r := range ev.Related {
		if r.Type == "" || r.ID == "" {
			bad(fmt.Sprintf("related[%d]", i), "type and id are both required")
		}
	}
	if n := len(ev.Labels); n > MaxLabels {
		bad("labels", "%d keys, the limit is %d", n, MaxLabels)
	}
	if path, ok := firstInvalidString(reflect.ValueOf(ev).Elem(), ""); !ok {
		bad(path, "not valid UTF-8")
	}
	return errors.Join(errs...)
}

func isAlpha2(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// firstInvalidString walks every string in v and returns the path of the
// first one that is not valid UTF-8.
func firstInvalidString(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return path, false
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			name := t.Field(i).Tag.Get("json")
			if j := indexByte(name, ','); j >= 0 {
				name = name[:j]
			}
			if name == "-" {
				continue
			}
			if p, ok := firstInvalidString(v.Field(i), join(path, name)); !ok {
				return p, false
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if p, ok := firstInvalidString(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			if !utf8.ValidString(k) {
				return path + " key", false
			}
			if p, ok := firstInvalidString(iter.Value(), join(path, k)); !ok {
				return p, false
			}
		}
	}
	return "", true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
