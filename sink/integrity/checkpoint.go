package integrity

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// Point is a position on a chain: the head after the row at Offset, and
// how many rows the chain holds up to there. The start of every chain is
// Genesis.
type Point struct {
	Offset int64
	Head   [auditrow.HashSize]byte
	Rows   uint64
}

// Genesis is the point before a chain's first row.
var Genesis = Point{Offset: -1}

// Checkpoint is one row of integrity_checkpoints: the chain of Tenant in
// Partition at At, extending Prev, with the event-time span of the rows in
// (Prev.Offset, At.Offset].
type Checkpoint struct {
	Tenant    string
	Partition int32
	At        Point
	Prev      Point
	TsMin     time.Time
	TsMax     time.Time
	SignedAt  time.Time
	KeyID     string
	Signature []byte
}

const payloadVersion = "trailwatch-checkpoint-v1"

// Payload is the canonical encoding that is signed: every field but the
// signature and the key id, length-prefixed or fixed-size.
func (c *Checkpoint) Payload() []byte {
	b := []byte(payloadVersion)
	b = binary.AppendUvarint(b, uint64(len(c.Tenant)))
	b = append(b, c.Tenant...)
	b = binary.BigEndian.AppendUint32(b, uint32(c.Partition))
	for _, p := range [...]Point{c.At, c.Prev} {
		b = binary.BigEndian.AppendUint64(b, uint64(p.Offset))
		b = append(b, p.Head[:]...)
		b = binary.BigEndian.AppendUint64(b, p.Rows)
	}
	for _, t := range [...]time.Time{c.TsMin, c.TsMax, c.SignedAt} {
		b = binary.BigEndian.AppendUint64(b, uint64(t.UnixMilli()))
	}
	return b
}

// Sign sets the key id and signature.
func (c *Checkpoint) Sign(s *Signer) {
	c.KeyID = s.KeyID()
	c.Signature = s.Sign(c.Payload())
}

// CheckSignature verifies the signature with the key named by KeyID.
func (c *Checkpoint) CheckSignature(keys map[string]ed25519.PublicKey) error {
	pub, ok := keys[c.KeyID]
	if !ok {
		return fmt.Errorf("signed with key %s, which is not among the public keys given", c.KeyID)
	}
	if !ed25519.Verify(pub, c.Payload(), c.Signature) {
		return fmt.Errorf("the signature does not match (key %s): the checkpoint was altered or forged", c.KeyID)
	}
	return nil
}

// Hex and ParseHead convert heads to and from the tables' hex text.
func Hex(h [auditrow.HashSize]byte) string { return hex.EncodeToString(h[:]) }

// ParseHead reads a hex head.
func ParseHead(s string) ([auditrow.HashSize]byte, error) {
	var h [auditrow.HashSize]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("chain head %q is not %d hex bytes", s, len(h))
	}
	copy(h[:], b)
	return h, nil
}
