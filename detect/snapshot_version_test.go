package detect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// A snapshot of another format version (version 1 kept a slot per
// aggregate) is refused as incompatible, never read as this version's,
// even with a valid checksum.
func TestSnapshotOtherVersionRefused(t *testing.T) {
	e := packEngine(t, nil)
	sh := e.NewShard()
	for _, x := range genEvents(3, 2000, 500, 0.01) {
		sh.Process(x, nil)
	}
	var snap bytes.Buffer
	if err := sh.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	b := snap.Bytes()
	if b[len(snapshotMagic)] != snapshotVersion {
		t.Fatalf("version byte %d, want %d", b[len(snapshotMagic)], snapshotVersion)
	}
	for _, v := range []byte{1, snapshotVersion + 1} {
		old := append([]byte(nil), b[:len(b)-4]...)
		old[len(snapshotMagic)] = v
		old = binary.LittleEndian.AppendUint32(old, crc32.Checksum(old, crcTable))
		_, err := RestoreShard(e, bytes.NewReader(old))
		if !errors.Is(err, ErrSnapshotIncompatible) || !strings.Contains(err.Error(), "format version") {
			t.Errorf("version %d: %v", v, err)
		}
		if _, _, err := RestoreShardMigrating(e, bytes.NewReader(old)); !errors.Is(err, ErrSnapshotIncompatible) {
			t.Errorf("version %d, migrating: %v", v, err)
		}
	}
}
