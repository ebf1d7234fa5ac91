package alert

import (
	"crypto/sha1"
	"encoding/hex"
)

// Namespaces of the name-based (version 5, RFC 9562) UUIDs below. They are
// fixed forever: changing one changes every id and breaks deduplication
// across an upgrade.
var (
	alertNamespace  = [16]byte{0x6b, 0x1f, 0x3c, 0x52, 0x8e, 0x0a, 0x4d, 0x21, 0x9a, 0x47, 0x5e, 0x11, 0xc2, 0x90, 0x7d, 0x33}
	actionNamespace = [16]byte{0x2d, 0x84, 0xa9, 0x06, 0x15, 0x7c, 0x4e, 0x58, 0xb3, 0x2f, 0x60, 0x9e, 0x48, 0xd1, 0x0b, 0x7a}
)

// AlertID is the deterministic id of the alert that rule ruleID raises for
// the group groupKey of tenant, given the ids of the events that identify
// the triggering evidence (the first evidence event and the event that
// completed the condition). The same inputs give the same id on every
// replay, restart and rebalance, so consumers deduplicate by id. It is a
// version 5 UUID, so ClickHouse can store it as a UUID.
func AlertID(ruleID, tenant, groupKey string, evidence ...string) string {
	parts := make([]string, 0, 3+len(evidence))
	parts = append(parts, ruleID, tenant, groupKey)
	parts = append(parts, evidence...)
	return uuid5(alertNamespace, parts)
}

// ActionID is the deterministic id of the action of type actionType that
// alert alertID requests; the responder's result records reuse it.
func ActionID(alertID, actionType string) string {
	return uuid5(actionNamespace, []string{alertID, actionType})
}

// uuid5 hashes the parts, each length-prefixed so that no two different
// part lists hash the same bytes ("ab","c" versus "a","bc").
func uuid5(ns [16]byte, parts []string) string {
	h := sha1.New()
	h.Write(ns[:])
	var n [10]byte
	for _, p := range parts {
		l := putUvarint(n[:], uint64(len(p)))
		h.Write(n[:l])
		h.Write([]byte(p))
	}
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 9562 variant
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}

func putUvarint(b []byte, x uint64) int {
	i := 0
	for x >= 0x80 {
		b[i] = byte(x) | 0x80
		x >>= 7
		i++
	}
	b[i] = byte(x)
	return i + 1
}
