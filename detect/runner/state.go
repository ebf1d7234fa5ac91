package runner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/trailwatch/trailwatch/detect"
)

// unit is one shard of a partition and what goes with it: the main
// stream's shard (sig ""), or one signature's shard on a re-keyed
// partition with its duplicate filter.
type unit struct {
	sig   string
	st    *stream
	sh    *detect.Shard
	dedup dedup
	count counted
}

// partState is a partition's state at a position: every message before
// next has been processed, and everything derived from it is
// acknowledged by Kafka. It outlives a claim in the runner's cache.
type partState struct {
	topic     string
	partition int
	next      int64
	set       *Set
	units     map[string]*unit
	manifest  *manifest // the latest snapshot written or restored, whose chunks the next one replaces
	blobSize  int       // the last blob's size, to size the next one's buffers
}

// A partition state blob (version 1) is what a snapshot's chunks hold:
//
//	"TWRUN" 0x01 | uvarint next | uvarint units |
//	per unit: name, shard snapshot (detect), duplicate filter
//
// with strings and byte strings length-prefixed (uvarint) and the filter
// as: uvarint sources | per source: varint partition, varint floor,
// uvarint n, n varint offsets. The manifest carries its size and checksum.
const blobMagic = "TWRUN\x01"

func (ps *partState) encode() ([]byte, error) {
	var b, sh bytes.Buffer
	b.Grow(ps.blobSize + ps.blobSize/8)
	sh.Grow(ps.blobSize + ps.blobSize/8) // a unit's snapshot is at most the blob
	b.WriteString(blobMagic)
	b.Write(binary.AppendUvarint(nil, uint64(ps.next)))
	names := slices.Sorted(maps.Keys(ps.units))
	b.Write(binary.AppendUvarint(nil, uint64(len(names))))
	for _, name := range names {
		u := ps.units[name]
		putBytes(&b, []byte(name))
		sh.Reset()
		if err := u.sh.Snapshot(&sh); err != nil {
			return nil, err
		}
		putBytes(&b, sh.Bytes())
		srcs := slices.Sorted(maps.Keys(u.dedup.src))
		b.Write(binary.AppendUvarint(nil, uint64(len(srcs))))
		for _, src := range srcs {
			s := u.dedup.src[src]
			b.Write(binary.AppendVarint(nil, int64(src)))
			b.Write(binary.AppendVarint(nil, s.floor))
			offs := slices.Sorted(maps.Keys(s.seen))
			b.Write(binary.AppendUvarint(nil, uint64(len(offs))))
			for _, o := range offs {
				b.Write(binary.AppendVarint(nil, o))
			}
		}
	}
	ps.blobSize = b.Len()
	return b.Bytes(), nil
}

func putBytes(b *bytes.Buffer, p []byte) {
	b.Write(binary.AppendUvarint(nil, uint64(len(p))))
	b.Write(p)
}

// restoreReport says how a blob's units came back.
type restoreReport struct {
	migrated []string // units restored under other rules (RestoreShardMigrating)
	dropped  []string // units whose stream no longer exists
}

var errBlob = errors.New("partition state blob corrupt")

// decodeState restores a blob under set. A shard snapshot taken under
// other rules is migrated (the reload policy: a rule keeps its state when
// what it stores is unchanged); a unit whose stream is gone is dropped.
func decodeState(blob []byte, set *Set, isMain bool) (*partState, restoreReport, error) {
	var rep restoreReport
	d := blobReader{b: blob}
	if !bytes.HasPrefix(blob, []byte(blobMagic)) {
		return nil, rep, fmt.Errorf("%w: bad magic", errBlob)
	}
	d.b = d.b[len(blobMagic):]
	ps := &partState{next: int64(d.uvarint()), set: set, units: map[string]*unit{}}
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := string(d.bytes())
		shard := d.bytes()
		u := &unit{sig: name}
		nsrc := d.uvarint()
		for j := uint64(0); j < nsrc && d.err == nil; j++ {
			src := int32(d.varint())
			s := &seenSet{floor: d.varint(), seen: map[int64]struct{}{}}
			for k, no := uint64(0), d.uvarint(); k < no && d.err == nil; k++ {
				s.seen[d.varint()] = struct{}{}
			}
			if u.dedup.src == nil {
				u.dedup.src = map[int32]*seenSet{}
			}
			u.dedup.src[src] = s
		}
		if d.err != nil {
			break
		}
		// A main partition has one unit, the main stream (""); a
		// re-keyed one has a unit per signature ("" too for rules grouped
		// by the tenant alone).
		var st *stream
		if !isMain {
			st = set.Rekeyed[name]
		} else if name == "" {
			st = set.Main
		}
		if st == nil {
			rep.dropped = append(rep.dropped, name)
			continue
		}
		u.st = st
		sh, err := detect.RestoreShard(st.eng, bytes.NewReader(shard))
		if errors.Is(err, detect.ErrSnapshotIncompatible) {
			sh, _, err = detect.RestoreShardMigrating(st.eng, bytes.NewReader(shard))
			rep.migrated = append(rep.migrated, name)
		}
		if err != nil {
			return nil, rep, fmt.Errorf("restoring shard %q: %w", name, err)
		}
		u.sh = sh
		ps.units[name] = u
	}
	if d.err != nil {
		return nil, rep, d.err
	}
	if len(d.b) != 0 {
		return nil, rep, fmt.Errorf("%w: %d bytes after the last unit", errBlob, len(d.b))
	}
	return ps, rep, nil
}

type blobReader struct {
	b   []byte
	err error
}

func (d *blobReader) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated", errBlob)
	}
	d.b = nil
}

func (d *blobReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *blobReader) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *blobReader) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}
