package salesforce

import (
	"fmt"
	"strings"

	"github.com/trailwatch/trailwatch/ingest/record"
)

// checksumAlphabet maps a 5-bit case mask to the character Salesforce
// appends for it.
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// ID18 returns the 18-character, case-insensitive form of a Salesforce id.
//
// Salesforce ids are 15 case-sensitive characters; the 18-character form adds
// three characters that encode the case of the first 15, five at a time (bit
// i of chunk c is set when character 5c+i is an upper-case letter). Real-Time
// Event Monitoring and *_DERIVED Event Log File columns give 18 characters,
// USER_ID and other ELF columns 15: converting both to 18 makes one user's
// events from both channels carry the same user.id.
//
// An 18-character id whose case was folded by some tool (the point of the
// suffix) is restored from its suffix. Anything else is an error.
func ID18(id string) (string, error) {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", fmt.Errorf("%s is not a Salesforce id (character %d is not a letter or digit)", record.Quote(id), i+1)
		}
	}
	switch len(id) {
	case 15:
		return id + checksum(id), nil
	case 18:
		suffix := strings.ToUpper(id[15:])
		if checksum(id[:15]) == suffix {
			return id[:15] + suffix, nil
		}
		restored, ok := restoreCase(id[:15], suffix)
		if !ok {
			return "", fmt.Errorf("%s is not a Salesforce id (its last three characters do not match the first fifteen)", record.Quote(id))
		}
		return restored + suffix, nil
	}
	return "", fmt.Errorf("%s is not a Salesforce id (want 15 or 18 characters, got %d)", record.Quote(id), len(id))
}

func checksum(id15 string) string {
	var out [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		mask := 0
		for i := 0; i < 5; i++ {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				mask |= 1 << i
			}
		}
		out[chunk] = checksumAlphabet[mask]
	}
	return string(out[:])
}

// restoreCase sets the case of each letter of id15 from the suffix's masks.
func restoreCase(id15, suffix string) (string, bool) {
	b := []byte(id15)
	for chunk := 0; chunk < 3; chunk++ {
		mask := strings.IndexByte(checksumAlphabet, suffix[chunk])
		if mask < 0 {
			return "", false
		}
		for i := 0; i < 5; i++ {
			c := &b[chunk*5+i]
			upper := mask&(1<<i) != 0
			switch {
			case *c >= 'a' && *c <= 'z' && upper:
				*c -= 'a' - 'A'
			case *c >= 'A' && *c <= 'Z' && !upper:
				*c += 'a' - 'A'
			case *c >= '0' && *c <= '9' && upper:
				return "", false // a digit cannot be upper-case
			}
		}
	}
	return string(b), checksum(string(b)) == suffix
}

// keyPrefixes maps the three-character key prefix of standard-object ids to
// the canonical object type. Prefixes are case-sensitive (00e is a profile,
// 00E a role).
var keyPrefixes = map[string]string{
	"001": "account",
	"003": "contact",
	"005": "user",
	"006": "opportunity",
	"00Q": "lead",
	"500": "case",
	"00O": "report",
	"01Z": "dashboard",
	"00B": "list_view",
	"0PS": "permission_set",
	"00e": "profile",
	"00E": "role",
	"701": "campaign",
	"800": "contract",
	"00T": "task",
	"00U": "event",
	"750": "bulk_job",
	"751": "bulk_batch",
}

// ObjectType returns the canonical object type of a Salesforce id from its
// key prefix, or "" for prefixes not in the table (custom objects).
func ObjectType(id string) string {
	if len(id) < 3 {
		return ""
	}
	return keyPrefixes[id[:3]]
}

// idField reads a Salesforce id field and returns its 18-character form.
func idField(obj record.Object, key string, required bool) (string, error) {
	v, err := obj.String(key)
	if err != nil {
		return "", err
	}
	if v == "" {
		if required {
			return "", obj.Missing(key)
		}
		return "", nil
	}
	id, err := ID18(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", obj.Path(key), err)
	}
	return id, nil
}
