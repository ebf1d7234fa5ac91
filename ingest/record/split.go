package record

import (
	"encoding/json"
	"errors"
)

// splitObject returns the members of a JSON object that json.Valid has
// accepted, as key -> raw value, the values sharing data's memory. It is the
// fast path of ParseObject: one validation pass and one split pass, with no
// reflection and no copy of the values. Later duplicate keys win, as with
// encoding/json.
func splitObject(data []byte) (map[string]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errors.New("not an object")
	}
	hint := len(data) / 24 // about one member per 24 bytes in the vendor records we read
	if hint > 64 {
		hint = 64
	}
	m := make(map[string]json.RawMessage, hint)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return m, nil
	}
	for i < len(data) {
		// key
		end := skipString(data, i)
		rawKey := data[i:end]
		var key string
		if hasBackslash(rawKey) {
			if err := json.Unmarshal(rawKey, &key); err != nil {
				return nil, err
			}
		} else {
			key = string(rawKey[1 : len(rawKey)-1])
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // ':'
		start := i
		i = skipValue(data, i)
		m[key] = json.RawMessage(data[start:i:i])
		i = skipSpace(data, i)
		if i >= len(data) || data[i] == '}' {
			return m, nil
		}
		i = skipSpace(data, i+1) // ','
	}
	return m, nil
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string literal starting at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index just past the (valid) value starting at i.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				i = skipString(data, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for ; i < len(data); i++ { // number, true, false, null
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}
