package ingest

import (
	"bytes"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// HeaderSource is the Kafka header naming the source an event came through.
const HeaderSource = "source"

// Key appends the Kafka key of ev to dst: tenant, '/', and the person
// (user.person_id, or user.id when unresolved), so one person's events from
// every CRM stay ordered in one partition (DESIGN.md, "Topic keys").
func Key(dst []byte, ev *event.Event) []byte {
	dst = append(dst, ev.Tenant...)
	dst = append(dst, '/')
	return append(dst, ev.PersonKey()...)
}

// Outcome is what became of one record added to a Batch.
type Outcome int

const (
	// Accepted: the record's event is in the batch.
	Accepted Outcome = iota
	// Duplicate: the batch holds the same event (same id, same bytes)
	// already; it is published once.
	Duplicate
	// Refused: the record goes to the dead-letter topic.
	Refused
)

// Rejected says where and why one record of a batch was refused.
type Rejected struct {
	Line   int    // 1-based line in the input; 0 when the input has no lines
	Index  int    // 0-based position of the record in its batch
	Reason string // the bounded class (Reason)
	Field  string // the field path to blame, if any
	Detail string // the whole message: "user.id: required"
}

// Batch collects what one unit of input became: encoded, keyed events for
// the activity topic and rejects for the dead-letter topic, which
// Publisher.Publish makes durable together. A Batch is not safe for
// concurrent use.
type Batch struct {
	source  string
	origin  deadletter.Origin
	topic   string
	resolve Resolver // nil: events go as they are
	headers []kafka.Header

	msgs    []kafka.Message
	times   []int64 // event timestamps (Unix ms), for the lag metrics
	dead    []deadletter.Reject
	rejects []Rejected
	dups    int
	ids     map[string]int // id -> index in msgs, when deduplicating

	arena []byte // encoded events and keys, referenced by msgs
	ev    event.Event
	// dirty is set when kafka-go may still read the arena (a Produce that
	// ended with its context): Reset must not reuse it.
	dirty bool
}

// Dedup makes the batch publish an event whose id it holds already only
// once when the bytes are the same, and refuse it (ReasonDuplicateID) when
// they differ: one id, two contents is a sender's bug or a forgery, and
// downstream deduplication would keep one of them at random.
func (b *Batch) Dedup() {
	if b.ids == nil {
		b.ids = map[string]int{}
	}
}

// Add parses one record with p and adds its event, or its rejection, to
// the batch. raw is the record's input bytes, kept (copied) for a dead
// letter; line and index say where it was.
func (b *Batch) Add(p *Parser, rec record.Record, raw []byte, now time.Time, line, index int) Outcome {
	if err := p.Parse(rec, now, &b.ev); err != nil {
		b.Reject(raw, line, index, err)
		return Refused
	}
	return b.AddEvent(&b.ev, p.MaxEventBytes(), raw, line, index)
}

// AddEvent adds an event parsed (and validated) already, refusing it if its
// encoding is over maxBytes. The publisher's resolver, if any, fills in the
// person first, so the key and the bytes carry it.
func (b *Batch) AddEvent(ev *event.Event, maxBytes int, raw []byte, line, index int) Outcome {
	if b.resolve != nil {
		b.resolve.Resolve(ev)
	}
	start := len(b.arena)
	b.arena = event.AppendJSON(b.arena, ev)
	value := b.arena[start:len(b.arena):len(b.arena)]
	if len(value) > maxBytes {
		b.arena = b.arena[:start]
		b.Reject(raw, line, index, &event.ValidationError{Kind: event.KindSize, Offset: -1,
			Reason: "event is " + strconv.Itoa(len(value)) + " bytes encoded, limit " + strconv.Itoa(maxBytes)})
		return Refused
	}
	if b.ids != nil {
		if i, seen := b.ids[ev.ID]; seen {
			b.arena = b.arena[:start]
			if bytes.Equal(b.msgs[i].Value, value) {
				b.dups++
				return Duplicate
			}
			b.Reject(raw, line, index, &duplicateError{id: ev.ID})
			return Refused
		}
		b.ids[ev.ID] = len(b.msgs)
	}
	kstart := len(b.arena)
	b.arena = Key(b.arena, ev)
	key := b.arena[kstart:len(b.arena):len(b.arena)]
	b.msgs = append(b.msgs, kafka.Message{Topic: b.topic, Key: key, Value: value, Headers: b.headers})
	b.times = append(b.times, ev.Timestamp.UnixMilli())
	return Accepted
}

type duplicateError struct{ id string }

func (e *duplicateError) Error() string {
	return "id: " + record.Quote(e.id) + " is already in this batch with different content"
}

// Reject adds a record that could not be read or parsed: it goes to the
// dead-letter topic with err's reason and field, raw (copied) and the
// batch's origin at line.
func (b *Batch) Reject(raw []byte, line, index int, err error) {
	r := Rejected{Line: line, Index: index, Reason: Reason(err), Field: Field(err), Detail: err.Error()}
	b.rejects = append(b.rejects, r)
	o := b.origin
	o.Line = line
	b.dead = append(b.dead, deadletter.Reject{
		Raw:    append([]byte{}, raw...),
		Reason: r.Detail,
		Field:  r.Field,
		Origin: o,
	})
}

// Len is the number of records added (accepted, duplicate or refused).
func (b *Batch) Len() int { return len(b.msgs) + b.dups + len(b.rejects) }

// Accepted is the number of events the batch will publish.
func (b *Batch) Accepted() int { return len(b.msgs) }

// Duplicates is the number of records published once for two (Dedup).
func (b *Batch) Duplicates() int { return b.dups }

// Rejected lists the refused records in the order they were added.
func (b *Batch) Rejected() []Rejected { return b.rejects }

// Source is the name of the batch's source.
func (b *Batch) Source() string { return b.source }

// SetOrigin changes where later rejects say they came from (a file
// collector moving to the next file).
func (b *Batch) SetOrigin(o deadletter.Origin) { b.origin = o }

// Reset empties the batch for reuse, keeping its memory unless kafka-go may
// still be reading it.
func (b *Batch) Reset() {
	if b.dirty {
		b.arena, b.msgs, b.times = nil, nil, nil
		b.dirty = false
	}
	clear(b.msgs) // drop references into the arena
	b.msgs, b.times, b.arena = b.msgs[:0], b.times[:0], b.arena[:0]
	b.dead, b.rejects, b.dups = nil, nil, 0
	if b.ids != nil {
		clear(b.ids)
	}
}
