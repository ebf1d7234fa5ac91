package detect

import (
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// fieldKind is how the engine stores and compares a field's value.
type fieldKind uint8

const (
	kindInvalid fieldKind = iota
	kindString
	kindNumber // every integer and float field; compared as float64
	kindBool
	kindTime
	kindStruct
	kindSlice
	kindMap
)

// field is one path of a struct reachable through expr tags, with the byte
// offset that lets the engine read it without reflection or allocation.
// Paths go through nested struct values only (the event has no pointers),
// so one offset from the root suffices.
type field struct {
	path   string // "client.geo.country"
	name   string // "country"
	kind   fieldKind
	typ    reflect.Type
	offset uintptr
	isInt  bool // an integer (int64), as opposed to float64
}

// fieldTable lists every path of a struct type, leaves and inner structs.
type fieldTable struct {
	byPath map[string]*field
	leaves []*field // in declaration order
}

var (
	eventFieldsOnce = sync.OnceValue(func() *fieldTable { return buildFields(reflect.TypeFor[event.Event]()) })
	changeFields    = sync.OnceValue(func() *fieldTable { return buildFields(reflect.TypeFor[event.Change]()) })
	relatedFields   = sync.OnceValue(func() *fieldTable { return buildFields(reflect.TypeFor[event.Related]()) })
)

// eventFields is the table of the canonical event's paths.
func eventFields() *fieldTable { return eventFieldsOnce() }

func buildFields(t reflect.Type) *fieldTable {
	ft := &fieldTable{byPath: map[string]*field{}}
	var walk func(t reflect.Type, prefix string, base uintptr)
	walk = func(t reflect.Type, prefix string, base uintptr) {
		for i := range t.NumField() {
			sf := t.Field(i)
			name := sf.Tag.Get("expr")
			if name == "" || name == "-" || !sf.IsExported() {
				continue
			}
			f := &field{path: prefix + name, name: name, typ: sf.Type, offset: base + sf.Offset}
			switch {
			case sf.Type == reflect.TypeFor[time.Time]():
				f.kind = kindTime
			case sf.Type.Kind() == reflect.String:
				f.kind = kindString
			case sf.Type.Kind() == reflect.Int64 || sf.Type.Kind() == reflect.Int:
				f.kind, f.isInt = kindNumber, true
			case sf.Type.Kind() == reflect.Float64:
				f.kind = kindNumber
			case sf.Type.Kind() == reflect.Bool:
				f.kind = kindBool
			case sf.Type.Kind() == reflect.Struct:
				f.kind = kindStruct
			case sf.Type.Kind() == reflect.Slice:
				f.kind = kindSlice
			case sf.Type.Kind() == reflect.Map:
				f.kind = kindMap
			default:
				continue
			}
			ft.byPath[f.path] = f
			if f.kind == kindStruct {
				walk(sf.Type, f.path+".", f.offset)
				continue
			}
			ft.leaves = append(ft.leaves, f)
		}
	}
	walk(t, "", 0)
	return ft
}

// children lists the names directly under prefix ("" for the top level).
func (ft *fieldTable) children(prefix string) []string {
	var out []string
	p := prefix
	if p != "" {
		p += "."
	}
	for path := range ft.byPath {
		if !strings.HasPrefix(path, p) {
			continue
		}
		rest := path[len(p):]
		if !strings.Contains(rest, ".") {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

// The readers below take the base pointer of the struct the table was built
// for (an *event.Event, or one element of Changes or Related).

func (f *field) str(base unsafe.Pointer) string {
	return *(*string)(unsafe.Add(base, f.offset))
}

func (f *field) num(base unsafe.Pointer) float64 {
	if f.isInt {
		return float64(*(*int64)(unsafe.Add(base, f.offset)))
	}
	return *(*float64)(unsafe.Add(base, f.offset))
}

func (f *field) boolean(base unsafe.Pointer) bool {
	return *(*bool)(unsafe.Add(base, f.offset))
}

func (f *field) time(base unsafe.Pointer) *time.Time {
	return (*time.Time)(unsafe.Add(base, f.offset))
}

// value returns the field as a Go value of its declared type (for the slow
// paths: fallback evaluation, templates, snapshots of slices and maps).
func (f *field) value(base unsafe.Pointer) any {
	return reflect.NewAt(f.typ, unsafe.Add(base, f.offset)).Elem().Interface()
}

// set writes v (of the field's declared type) into the field.
func (f *field) set(base unsafe.Pointer, v any) {
	reflect.NewAt(f.typ, unsafe.Add(base, f.offset)).Elem().Set(reflect.ValueOf(v))
}

func (f *field) setStr(base unsafe.Pointer, s string) {
	*(*string)(unsafe.Add(base, f.offset)) = s
}

func (f *field) setNum(base unsafe.Pointer, x float64) {
	if f.isInt {
		*(*int64)(unsafe.Add(base, f.offset)) = int64(x)
		return
	}
	*(*float64)(unsafe.Add(base, f.offset)) = x
}

func (f *field) setBool(base unsafe.Pointer, b bool) {
	*(*bool)(unsafe.Add(base, f.offset)) = b
}

func evPtr(e *event.Event) unsafe.Pointer { return unsafe.Pointer(e) }

// suggest returns the candidate closest to name by edit distance, if it is
// close enough to be a plausible typo ("" otherwise).
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(name) > 8 {
		limit = 3
	}
	if bestD <= limit || strings.Contains(best, name) && len(name) >= 3 {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // transposition ("nmae" for "name")
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
