package runner

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// Re-keyed copies. The main stream writes, for each event a re-keyed rule
// takes (its filter holds; detect.Shard.Matches), one copy per signature to the re-keyed topic: the event's
// bytes unchanged, its Kafka timestamp (the ingest time, for alert latency
// and for replay by time), and headers saying which signature it is for and
// where it came from.
//
// A copy may be written twice: the main partition re-processes from its
// committed offset after a crash, and the copies of the messages after that
// offset may already be in the topic. The re-keyed shard drops those
// duplicates (dedup), with the help of the floor each copy carries: the
// offset below which every copy of its source partition was acknowledged
// before this one was sent, and so sits earlier in the re-keyed partition.
// A copy below the floor of one seen before is therefore a duplicate; at or
// above it, the shard remembers which source offsets it has seen. The floor
// advances with every acknowledged batch, so that memory stays small.
const (
	hdrSig    = "tw-sig"    // the group_by signature
	hdrSrc    = "tw-src"    // source partition of crm.activity
	hdrOffset = "tw-offset" // source offset
	hdrFloor  = "tw-floor"  // see above
)

// copyOf makes the re-keyed copy of m for stream st.
func copyOf(topic string, st *stream, key []byte, m *kafka.Message, floor int64) kafka.Message {
	return kafka.Message{
		Topic: topic,
		Key:   key,
		Value: m.Value,
		Time:  m.Time,
		Headers: []kafka.Header{
			{Key: hdrSig, Value: []byte(st.sig)},
			{Key: hdrSrc, Value: strconv.AppendInt(nil, int64(m.Partition), 10)},
			{Key: hdrOffset, Value: strconv.AppendInt(nil, m.Offset, 10)},
			{Key: hdrFloor, Value: strconv.AppendInt(nil, floor, 10)},
		},
	}
}

// copyInfo is what a copy's headers say.
type copyInfo struct {
	sig           string
	src           int32
	offset, floor int64
}

var errNotACopy = errors.New("not a re-keyed copy")

func parseCopy(m *kafka.Message) (copyInfo, error) {
	var ci copyInfo
	var have int
	for _, h := range m.Headers {
		var err error
		switch h.Key {
		case hdrSig:
			ci.sig, have = string(h.Value), have|1
		case hdrSrc:
			var v int64
			v, err = strconv.ParseInt(string(h.Value), 10, 32)
			ci.src, have = int32(v), have|2
		case hdrOffset:
			ci.offset, err = strconv.ParseInt(string(h.Value), 10, 64)
			have |= 4
		case hdrFloor:
			ci.floor, err = strconv.ParseInt(string(h.Value), 10, 64)
			have |= 8
		}
		if err != nil {
			return ci, fmt.Errorf("%w: header %s: %w", errNotACopy, h.Key, err)
		}
	}
	if have != 15 {
		return ci, fmt.Errorf("%w: headers %s, %s, %s and %s are required", errNotACopy, hdrSig, hdrSrc, hdrOffset, hdrFloor)
	}
	return ci, nil
}

// dedup remembers, per source partition, the highest floor seen and the
// source offsets seen at or above it.
type dedup struct {
	src map[int32]*seenSet
}

type seenSet struct {
	floor int64
	seen  map[int64]struct{}
}

// admit reports whether the copy is new, and records it.
func (d *dedup) admit(ci copyInfo) bool {
	if d.src == nil {
		d.src = map[int32]*seenSet{}
	}
	s := d.src[ci.src]
	if s == nil {
		s = &seenSet{floor: -1, seen: map[int64]struct{}{}}
		d.src[ci.src] = s
	}
	if ci.floor > s.floor {
		s.floor = ci.floor
		for off := range s.seen {
			if off < s.floor {
				delete(s.seen, off)
			}
		}
	}
	if ci.offset < s.floor {
		return false
	}
	if _, dup := s.seen[ci.offset]; dup {
		return false
	}
	s.seen[ci.offset] = struct{}{}
	return true
}
