package generic

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// step is one step of a path: an object key or an array index.
type step struct {
	key     string
	index   int
	isIndex bool
}

// path is a parsed field path such as actor.id or targets[0].ids[2].
type path struct {
	text  string
	steps []step
}

// parsePath parses dotted keys with optional [N] array indexes after each.
// Keys may hold any character but '.', '[' and ']'.
func parsePath(s string) (path, error) {
	if s == "" {
		return path{}, fmt.Errorf("empty path")
	}
	p := path{text: s}
	for _, seg := range strings.Split(s, ".") {
		name := seg
		rest := ""
		if i := strings.IndexByte(seg, '['); i >= 0 {
			name, rest = seg[:i], seg[i:]
		}
		if name == "" {
			return path{}, fmt.Errorf("path %q: empty key", s)
		}
		if strings.ContainsAny(name, "]") {
			return path{}, fmt.Errorf("path %q: unexpected ]", s)
		}
		p.steps = append(p.steps, step{key: name})
		for rest != "" {
			end := strings.IndexByte(rest, ']')
			if rest[0] != '[' || end < 0 {
				return path{}, fmt.Errorf("path %q: want [N] after %q", s, name)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 || rest[1] == '+' {
				return path{}, fmt.Errorf("path %q: %q is not an array index (want a non-negative integer)", s, rest[1:end])
			}
			p.steps = append(p.steps, step{index: n, isIndex: true})
			rest = rest[end+1:]
		}
	}
	return p, nil
}

// lookup walks v (decoded with UseNumber) and returns the value, or
// ok=false when any step is missing, null or of the wrong shape.
func (p path) lookup(v any) (any, bool) {
	for _, st := range p.steps {
		switch x := v.(type) {
		case map[string]any:
			if st.isIndex {
				return nil, false
			}
			v = x[st.key]
		case []any:
			if !st.isIndex || st.index >= len(x) {
				return nil, false
			}
			v = x[st.index]
		default:
			return nil, false
		}
		if v == nil {
			return nil, false
		}
	}
	return v, true
}

// text renders a scalar as text: strings as they are, numbers as written,
// booleans as true/false. Objects and arrays are refused.
func text(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case map[string]any:
		return "", fmt.Errorf("is an object, want a string, number or boolean")
	case []any:
		return "", fmt.Errorf("is an array, want a string, number or boolean")
	}
	return "", fmt.Errorf("has an unsupported type %T", v)
}
