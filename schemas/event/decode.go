package event

import (
	"strconv"
	"unsafe"
)

// Decode parses and validates one canonical event. See DecodeInto.
func Decode(data []byte, opts Options) (Event, error) {
	var e Event
	err := DecodeInto(&e, data, opts)
	return e, err
}

// DecodeInto parses one JSON-encoded canonical event into e and checks every
// rule of the contract as it reads: JSON syntax, nothing after the object,
// types, required fields, enums and formats, ranges, the limits in opts,
// strings that are valid UTF-8, no unknown field and no duplicate key at any
// level, and the timestamp within the window of opts.Now. It stops at the
// first problem and returns it as a *ValidationError (errors.Is
// ErrInvalidEvent), after which e holds an unspecified part of the event.
//
// Duplicate keys are rejected, not resolved: parsers disagree on which of
// two values wins, and an event that reads differently to two consumers is
// exactly what an attacker would send.
//
// e is overwritten. Its Changes and Related slices and its Labels map are
// reused, so decoding many events into one Event allocates little; do not
// do that with an Event whose slices or map are still in use elsewhere. An
// absent array or object leaves them empty (length 0, not necessarily nil).
//
// The decoded strings share one copy of data (data itself is not retained):
// keeping one small field of a large event alive keeps the copy alive, so
// strings.Clone a field that must outlive the event by much.
func DecodeInto(e *Event, data []byte, opts Options) error {
	return decodeInto(e, data, opts, false)
}

// DecodeIntoNoCopy is DecodeInto without its copy of data: the decoded
// strings point into data itself (all but those with escapes), which saves
// an allocation the size of the event and the copy. data must then not
// change while e, or any string taken from it, is in use; and a string
// kept from e keeps all of data alive.
//
// It is for a caller that owns data and keeps nothing of e beyond it: the
// detector decodes a Kafka message's value, which nothing modifies, and
// its engine copies whatever it keeps (detect.Shard.Process). A caller
// that reuses its buffer, or hands e's strings on, wants DecodeInto.
func DecodeIntoNoCopy(e *Event, data []byte, opts Options) error {
	return decodeInto(e, data, opts, true)
}

// decodeInto decodes data; the event's strings point into a copy of it, or
// with noCopy into data itself.
func decodeInto(e *Event, data []byte, opts Options, noCopy bool) error {
	o := opts.limits()
	// Keep the capacity, drop the old contents (and the input they pin).
	clear(e.Changes)
	clear(e.Related)
	clear(e.Labels)
	changes, related, labels := e.Changes[:0], e.Related[:0], e.Labels
	*e = Event{Changes: changes, Related: related, Labels: labels}
	if len(data) > o.MaxBytes {
		return fail("", KindSize, "event is "+strconv.Itoa(len(data))+" bytes, limit "+strconv.Itoa(o.MaxBytes))
	}
	// The copy is made once the size is known to be within the limit.
	var str string
	if noCopy {
		str = unsafe.String(unsafe.SliceData(data), len(data))
	} else {
		str = string(data)
	}
	d := decoder{data: data, str: str, opts: o}
	if err := d.event(e); err != nil {
		return err
	}
	return nil
}

// Members of the top-level object, as bits of the seen set.
const (
	seenID uint32 = 1 << iota
	seenTimestamp
	seenTenant
	seenSource
	seenEvent
	seenUser
	seenClient
	seenObject
	seenChanges
	seenRecords
	seenComment
	seenRelated
	seenTargetUser
	seenPermission
	seenLabels
)

// required lists the top-level members that must be present, in the order
// they are reported.
var required = [...]struct {
	bit  uint32
	path string
}{
	{seenID, "id"}, {seenTimestamp, "timestamp"}, {seenTenant, "tenant"},
	{seenSource, "source"}, {seenEvent, "event"}, {seenUser, "user"},
}

func (d *decoder) event(e *Event) *ValidationError {
	d.ws()
	if d.pos >= len(d.data) {
		return syntaxError(d.pos, "unexpected end of input")
	}
	if d.data[d.pos] != '{' {
		if d.kindAt() == "" {
			return d.unexpected("looking for beginning of value")
		}
		return fail("", KindType, "expected an object, got "+d.kindAt())
	}
	empty, err := d.beginObject("")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("")
		if err != nil {
			return err
		}
		switch k {
		case "id":
			err = d.id(e, &seen)
		case "timestamp":
			err = d.timestamp(e, &seen)
		case "tenant":
			err = d.required(&e.Tenant, &seen, seenTenant, "tenant")
		case "source":
			if err = duplicate(&seen, seenSource, "source"); err == nil {
				err = d.source(&e.Source)
			}
		case "event":
			if err = duplicate(&seen, seenEvent, "event"); err == nil {
				err = d.activity(&e.Event)
			}
		case "user":
			if err = duplicate(&seen, seenUser, "user"); err == nil {
				err = d.user(&e.User)
			}
		case "client":
			if err = duplicate(&seen, seenClient, "client"); err == nil {
				err = d.client(&e.Client)
			}
		case "object":
			if err = duplicate(&seen, seenObject, "object"); err == nil {
				err = d.object(&e.Object)
			}
		case "changes":
			if err = duplicate(&seen, seenChanges, "changes"); err == nil {
				err = d.changes(e)
			}
		case "records":
			err = d.records(e, &seen)
		case "comment":
			err = d.optional(&e.Comment, &seen, seenComment, "comment")
		case "related":
			if err = duplicate(&seen, seenRelated, "related"); err == nil {
				err = d.related(e)
			}
		case "target_user":
			if err = duplicate(&seen, seenTargetUser, "target_user"); err == nil {
				err = d.targetUser(&e.TargetUser)
			}
		case "permission":
			if err = duplicate(&seen, seenPermission, "permission"); err == nil {
				err = d.permission(&e.Permission)
			}
		case "labels":
			if err = duplicate(&seen, seenLabels, "labels"); err == nil {
				err = d.labels(e)
			}
		default:
			err = fail(keyPath("", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	d.ws()
	if d.pos < len(d.data) {
		return d.unexpected("after top-level value")
	}
	for _, r := range required {
		if seen&r.bit == 0 {
			return fail(r.path, KindRequired, "required")
		}
	}
	return nil
}

func (d *decoder) id(e *Event, seen *uint32) *ValidationError {
	if err := d.required(&e.ID, seen, seenID, "id"); err != nil {
		return err
	}
	return checkID(e.ID)
}

func (d *decoder) timestamp(e *Event, seen *uint32) *ValidationError {
	if err := duplicate(seen, seenTimestamp, "timestamp"); err != nil {
		return err
	}
	s, err := d.stringValue("timestamp")
	if err != nil {
		return err
	}
	t, reason := parseTimestamp(s)
	if reason != "" {
		return fail("timestamp", KindFormat, reason)
	}
	e.Timestamp = t
	return checkWindow(t, &d.opts)
}

func (d *decoder) records(e *Event, seen *uint32) *ValidationError {
	if err := duplicate(seen, seenRecords, "records"); err != nil {
		return err
	}
	text, err := d.numberValue("records", "integer")
	if err != nil {
		return err
	}
	n, kind, reason := parseRecords(text)
	if reason != "" {
		return fail("records", kind, reason)
	}
	e.Records, e.HasRecords = n, true
	return nil
}

// required reads a required string member: once, and not empty.
func (d *decoder) required(dst *string, seen *uint32, bit uint32, path string) *ValidationError {
	if err := duplicate(seen, bit, path); err != nil {
		return err
	}
	s, err := d.stringValue(path)
	if err != nil {
		return err
	}
	*dst = s
	return checkRequired(path, s, true)
}

// optional reads an optional string member: once.
func (d *decoder) optional(dst *string, seen *uint32, bit uint32, path string) *ValidationError {
	if err := duplicate(seen, bit, path); err != nil {
		return err
	}
	s, err := d.stringValue(path)
	*dst = s
	return err
}
