package detect

import (
	"fmt"
	"math"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// DecodeOptions are the decoder options for event-time processing (replay,
// rule tests, benchmarks): every rule of the contract and its default
// limits, user.timezone resolved as at ingest, but no check against the wall
// clock. Any age is accepted (the contract's replay and backfill path), and
// so is any time ahead: a clock check would make a file's alerts depend on
// the day it is replayed. Now is fixed, so decoding never reads the clock.
func DecodeOptions() event.Options {
	o := event.DefaultOptions()
	o.MaxAge = 0                  // any age
	o.MaxFuture = math.MaxInt64   // any time ahead (Time.Sub saturates, so nothing exceeds it)
	o.Now = time.Unix(0, 0).UTC() // never read the wall clock
	return o
}

// DecodeEvent decodes and validates one canonical event with DecodeOptions
// (schemas/event's validating decoder). Errors start with "invalid event: "
// and name the field or byte offset and the reason.
func DecodeEvent(b []byte) (*event.Event, error) {
	ev := new(event.Event)
	if err := DecodeEventInto(ev, b); err != nil {
		return nil, err
	}
	return ev, nil
}

// DecodeEventInto is DecodeEvent into an Event the caller reuses (see
// event.DecodeInto): one allocation per event. The Event's strings share
// one copy of b; Shard.Process copies what it keeps, so ev may be decoded
// into again after Process returns.
func DecodeEventInto(ev *event.Event, b []byte) error {
	if err := event.DecodeInto(ev, b, DecodeOptions()); err != nil {
		return fmt.Errorf("invalid event: %w", err)
	}
	return nil
}

// DecodeEventIntoNoCopy is DecodeEventInto with event.DecodeIntoNoCopy:
// the Event's strings point into b, with no allocation. b must not change
// until Process has returned; Process copies what it keeps, so b may be
// reused after that (as the detector's Kafka values and replay's batches
// are).
func DecodeEventIntoNoCopy(ev *event.Event, b []byte) error {
	if err := event.DecodeIntoNoCopy(ev, b, DecodeOptions()); err != nil {
		return fmt.Errorf("invalid event: %w", err)
	}
	return nil
}

// EncodeEvent writes an event as canonical JSON (event.AppendJSON).
func EncodeEvent(ev *event.Event) ([]byte, error) {
	return event.AppendJSON(nil, ev), nil
}
