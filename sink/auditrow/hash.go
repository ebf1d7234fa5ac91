package auditrow

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
)

// HashSize is the size of row hashes and chain heads.
const HashSize = sha256.Size

// hashVersion starts every row encoding; a change to what is hashed gets
// a new version, and verify keeps reading the old one.
const hashVersion = "trailwatch-row-v1"

// Hasher computes row hashes with a reused buffer. The zero value is
// ready; it is not safe for concurrent use.
type Hasher struct {
	buf []byte
}

// Hash returns the SHA-256 of r's canonical encoding: every field the
// source gave, as stored, then the ingest time, partition and offset.
// Strings and arrays are length-prefixed, so no two rows encode alike.
// Geo filled by enrichment hashes as absent (the source gave none).
func (h *Hasher) Hash(r *Row) [HashSize]byte {
	b := append(h.buf[:0], hashVersion...)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	strs := func(ss []string) {
		b = binary.AppendUvarint(b, uint64(len(ss)))
		for _, s := range ss {
			str(s)
		}
	}
	flag := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.TimestampMs))
	b = binary.BigEndian.AppendUint16(b, uint16(r.TZOffsetMinutes))
	for _, s := range [...]string{
		r.ID, r.Tenant, r.SourceSystem, r.SourceID, r.SourceCollector,
		r.Category, r.Action, r.Outcome, r.Reason,
		r.UserID, r.UserName, r.PersonID, r.EmployeeID, r.UserRole, r.UserDepartment, r.UserType, r.UserTimezone,
		r.UserAgent, r.DeviceID, r.SessionID, r.AccessMethod,
		r.ObjectType, r.ObjectID, r.ObjectName, r.ObjectOwnerID,
		r.Comment, r.TargetUserID, r.TargetUserName, r.PermissionName, r.PermissionScope,
	} {
		str(s)
	}
	flag(r.ClientIP.IsValid())
	if r.ClientIP.IsValid() {
		a := r.ClientIP.As16()
		b = append(b, a[:]...)
	}
	if r.GeoEnriched {
		str("")
		str("")
		str("")
		flag(false)
	} else {
		str(r.GeoCountry)
		str(r.GeoRegion)
		str(r.GeoCity)
		flag(r.HasCoords)
		if r.HasCoords {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.GeoLat))
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.GeoLon))
		}
	}
	flag(r.HasRecords)
	if r.HasRecords {
		b = binary.BigEndian.AppendUint64(b, r.Records)
	}
	strs(r.ChangeField)
	strs(r.ChangeOld)
	strs(r.ChangeNew)
	strs(r.RelatedType)
	strs(r.RelatedID)
	strs(r.LabelKeys)
	strs(r.LabelValues)
	b = binary.BigEndian.AppendUint64(b, uint64(r.IngestedAtMs))
	b = binary.BigEndian.AppendUint32(b, uint32(r.Partition))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Offset))
	h.buf = b
	return sha256.Sum256(b)
}

// Fingerprint is what a row stores of its hash: the first 8 bytes.
func Fingerprint(h [HashSize]byte) uint64 { return binary.BigEndian.Uint64(h[:8]) }

// Fold extends a chain head by one row: SHA-256(head || offset || row
// hash). A chain starts from the zero head.
func Fold(head [HashSize]byte, offset int64, rowHash [HashSize]byte) [HashSize]byte {
	var b [HashSize + 8 + HashSize]byte
	copy(b[:], head[:])
	binary.BigEndian.PutUint64(b[HashSize:], uint64(offset))
	copy(b[HashSize+8:], rowHash[:])
	return sha256.Sum256(b[:])
}
