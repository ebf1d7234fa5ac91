package record

import (
	"sort"
	"unicode/utf8"
)

// MaxLabels is the contract's limit on labels per event.
const MaxLabels = 256

// MaxExtraLabels bounds the labels one record may add for vendor fields a
// normaliser does not know, so a vendor adding many fields cannot crowd out
// the ones rules read.
const MaxExtraLabels = 32

// Labels collects an event's labels, dropping empty values and never growing
// past MaxLabels.
type Labels map[string]string

// Set records key=value unless value is empty or the map is full.
func (l Labels) Set(key, value string) {
	if value == "" || !utf8.ValidString(value) {
		return
	}
	if _, exists := l[key]; !exists && len(l) >= MaxLabels {
		return
	}
	l[key] = value
}

// Map returns the labels, or nil when there are none (so the encoder omits them).
func (l Labels) Map() map[string]string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// AddExtras copies, as labels prefix+name, the scalar fields of obj that are
// not in known (fields the normaliser was not written for: new vendor fields
// are kept, not lost). Objects and arrays are skipped: they are vendor
// payloads (report rows, query results) too large and too personal for labels.
// At most MaxExtraLabels are added, in name order.
func (l Labels) AddExtras(obj Object, known map[string]bool, prefix string) {
	var unknown []string
	for k := range obj.fields {
		if !known[k] && k != "attributes" && k != "" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return
	}
	sort.Strings(unknown)
	added := 0
	for _, k := range unknown {
		if added >= MaxExtraLabels {
			return
		}
		v, ok, err := obj.Scalar(k)
		if err != nil || !ok || v == "" {
			continue
		}
		l.Set(prefix+k, v)
		added++
	}
}

// KnownSet builds a set of field names.
func KnownSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
