package event

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the canonical JSON encoding of e to dst: members in the
// contract's order, no whitespace, optional strings and objects omitted when
// empty, records and the coordinates only when their flags say so, labels
// sorted by key, the timestamp with exactly three fractional digits and its
// own offset (Z for zero). For a valid event (Validate returns nil),
// decoding the result gives back an Event equal to e (Event.Equal).
//
// The output is always valid JSON, even for an invalid e: bytes that are not
// UTF-8 are written as U+FFFD, as encoding/json does.
func AppendJSON(dst []byte, e *Event) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"timestamp":"`...)
	dst = appendTimestamp(dst, e.Timestamp)
	dst = append(dst, `","tenant":`...)
	dst = appendString(dst, e.Tenant)

	dst = append(dst, `,"source":{`...)
	dst = str(dst, "system", e.Source.System)
	dst = str(dst, "id", e.Source.ID)
	dst = str(dst, "collector", e.Source.Collector)

	dst = append(dst, `},"event":{`...)
	dst = str(dst, "category", e.Event.Category)
	dst = str(dst, "action", e.Event.Action)
	dst = str(dst, "outcome", e.Event.Outcome)
	dst = str(dst, "reason", e.Event.Reason)

	u := &e.User
	dst = append(dst, `},"user":{`...)
	dst = str(dst, "id", u.ID)
	dst = str(dst, "name", u.Name)
	dst = str(dst, "person_id", u.PersonID)
	dst = str(dst, "employee_id", u.EmployeeID)
	dst = str(dst, "role", u.Role)
	dst = str(dst, "department", u.Department)
	dst = str(dst, "type", u.Type)
	dst = str(dst, "timezone", u.Timezone)
	dst = append(dst, '}')

	if c := &e.Client; *c != (Client{}) {
		dst = append(dst, `,"client":{`...)
		dst = str(dst, "ip", c.IP)
		dst = str(dst, "user_agent", c.UserAgent)
		dst = str(dst, "device_id", c.DeviceID)
		dst = str(dst, "session_id", c.SessionID)
		dst = str(dst, "access_method", c.AccessMethod)
		if g := &c.Geo; g.Country != "" || g.Region != "" || g.City != "" || g.HasCoords {
			dst = member(dst, "geo")
			dst = append(dst, '{')
			dst = str(dst, "country", g.Country)
			dst = str(dst, "region", g.Region)
			dst = str(dst, "city", g.City)
			if g.HasCoords {
				dst = member(dst, "lat")
				dst = appendFloat(dst, g.Lat)
				dst = member(dst, "lon")
				dst = appendFloat(dst, g.Lon)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}

	if o := &e.Object; *o != (Object{}) {
		dst = append(dst, `,"object":{`...)
		dst = str(dst, "type", o.Type)
		dst = str(dst, "id", o.ID)
		dst = str(dst, "name", o.Name)
		dst = str(dst, "owner_id", o.OwnerID)
		dst = append(dst, '}')
	}

	if len(e.Changes) > 0 {
		dst = append(dst, `,"changes":[`...)
		for i := range e.Changes {
			c := &e.Changes[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"field":`...)
			dst = appendString(dst, c.Field)
			dst = append(dst, `,"old":`...)
			dst = appendString(dst, c.Old)
			dst = append(dst, `,"new":`...)
			dst = appendString(dst, c.New)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}

	if e.HasRecords {
		dst = append(dst, `,"records":`...)
		dst = strconv.AppendInt(dst, e.Records, 10)
	}

	if e.Comment != "" {
		dst = append(dst, `,"comment":`...)
		dst = appendString(dst, e.Comment)
	}

	if len(e.Related) > 0 {
		dst = append(dst, `,"related":[`...)
		for i := range e.Related {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"type":`...)
			dst = appendString(dst, e.Related[i].Type)
			dst = append(dst, `,"id":`...)
			dst = appendString(dst, e.Related[i].ID)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}

	if t := &e.TargetUser; *t != (TargetUser{}) {
		dst = append(dst, `,"target_user":{`...)
		dst = str(dst, "id", t.ID)
		dst = str(dst, "name", t.Name)
		dst = append(dst, '}')
	}

	if p := &e.Permission; *p != (Permission{}) {
		dst = append(dst, `,"permission":{`...)
		dst = str(dst, "name", p.Name)
		dst = str(dst, "scope", p.Scope)
		dst = append(dst, '}')
	}

	if len(e.Labels) > 0 {
		dst = appendLabels(dst, e.Labels)
	}
	return append(dst, '}')
}

// appendLabels writes labels sorted by key, so equal events encode to equal
// bytes. The keys are sorted in a stack buffer for the usual handful.
func appendLabels(dst []byte, labels map[string]string) []byte {
	var buf [16]string
	keys := buf[:0]
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, `,"labels":{`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, labels[k])
	}
	return append(dst, '}')
}

// member writes a member's key, after a comma unless it is the object's first.
func member(dst []byte, key string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// str writes an optional string member, nothing when it is empty.
func str(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return appendString(member(dst, key), v)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping only what JSON requires
// ('"', '\\' and control characters).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
