package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxIDLen is the contract's limit on an event id.
const MaxIDLen = 128

// SourceID builds an event id from the source's own id: prefix + id. It
// refuses an id that would break the contract's 128-character limit or that
// holds control characters, rather than cutting it (a cut id could collide).
func SourceID(prefix, id, field string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%s: missing (required: it is the event's id)", field)
	}
	if len(prefix)+len(id) > MaxIDLen {
		return "", fmt.Errorf("%s: %d characters, too long for an event id (limit %d with the prefix %q)", field, len(id), MaxIDLen-len(prefix), prefix)
	}
	if strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("%s: %s holds control characters", field, Quote(id))
	}
	return prefix + id, nil
}

// HashID builds an event id for a source with no id of its own: prefix + the
// first 128 bits of SHA-256 over the record's canonical bytes, so a re-sent
// record keeps its id and two different records do not share one.
func HashID(prefix string, canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return prefix + hex.EncodeToString(sum[:16])
}

// CanonicalJSON re-encodes a JSON value with object keys sorted and
// insignificant whitespace removed, numbers kept as written. The same record
// re-sent with its fields in another order gives the same bytes.
func CanonicalJSON(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	writeCanonical(&b, v)
	return b.Bytes(), nil
}

func writeCanonical(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case string:
		b.WriteString(strconv.Quote(x))
	case json.Number:
		b.WriteString(x.String())
	case bool:
		b.WriteString(strconv.FormatBool(x))
	default:
		b.WriteString("null")
	}
}

func writeLenPrefixed(b *bytes.Buffer, s string) {
	var n [binary.MaxVarintLen64]byte
	b.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	b.WriteString(s)
}
