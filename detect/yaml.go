package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// ydoc decodes one YAML file by walking its nodes, so every problem carries
// the file, line and column it comes from (yaml.v3's Unmarshal loses
// positions, and does not say which keys were unknown).
type ydoc struct {
	file  string
	lines [][]rune
	errs  LoadErrors
	rule  string // the rule id, once known, for error context
}

func newYdoc(file string, src []byte) *ydoc {
	d := &ydoc{file: file}
	for _, l := range strings.Split(string(src), "\n") {
		d.lines = append(d.lines, []rune(strings.TrimSuffix(l, "\r")))
	}
	return d
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads the single document of the file.
func (d *ydoc) parse(src []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			d.errs = append(d.errs, &LoadError{File: d.file, Line: 1, Msg: "empty file"})
			return nil
		}
		d.yamlErr(err)
		return nil
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		// One rule per file keeps ids, tests and diffs easy to follow.
		d.errs = append(d.errs, &LoadError{File: d.file, Line: second.Line, Msg: "one rule or lists document per file"})
		return nil
	} else if !errors.Is(err, io.EOF) {
		d.yamlErr(err)
		return nil
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		d.errs = append(d.errs, &LoadError{File: d.file, Line: 1, Msg: "empty file"})
		return nil
	}
	return root.Content[0]
}

func (d *ydoc) yamlErr(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.errs = append(d.errs, &LoadError{File: d.file, Line: line, Msg: "invalid YAML: " + msg})
}

func (d *ydoc) errorf(n *yaml.Node, format string, args ...any) {
	e := &LoadError{File: d.file, Rule: d.rule, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *ydoc) errorAt(line, col int, format string, args ...any) {
	d.errs = append(d.errs, &LoadError{File: d.file, Line: line, Column: col, Rule: d.rule, Msg: fmt.Sprintf(format, args...)})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// deref follows YAML aliases (bounded, so an alias loop cannot hang).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	return n
}

// ykv is one key of a mapping with its value.
type ykv struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

// mapping returns the pairs of a mapping node, reporting keys that are not
// in known (with a suggestion), duplicate keys, and non-scalar keys. A nil
// known accepts any key.
func (d *ydoc) mapping(n *yaml.Node, what string, known []string) []ykv {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return nil
	}
	seen := map[string]bool{}
	var out []ykv
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be plain names", what)
			continue
		}
		if k.Value == "<<" {
			d.errorf(k, "%s: merge keys (<<) are not supported; write the keys out", what)
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		if known != nil && !contains(known, k.Value) {
			msg := fmt.Sprintf("%s: unknown key %q", what, k.Value)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(k, "%s", msg)
			continue
		}
		out = append(out, ykv{k.Value, k, v})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *ydoc) scalar(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s must be a single value, not %s", what, kindNameOrNothing(n))
		return "", false
	}
	return n.Value, true
}

func kindNameOrNothing(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	return kindName(n)
}

func (d *ydoc) str(n *yaml.Node, what string) string {
	s, _ := d.scalar(n, what)
	return s
}

func (d *ydoc) nonEmpty(n *yaml.Node, what string) string {
	s, ok := d.scalar(n, what)
	if ok && strings.TrimSpace(s) == "" {
		d.errorf(n, "%s must not be empty", what)
	}
	return s
}

func (d *ydoc) boolean(n *yaml.Node, what string) bool {
	s, ok := d.scalar(n, what)
	if !ok {
		return false
	}
	switch s {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	d.errorf(n, "%s must be true or false, not %q", what, s)
	return false
}

func (d *ydoc) integer(n *yaml.Node, what string) int {
	s, ok := d.scalar(n, what)
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		d.errorf(n, "%s must be a whole number, not %q", what, s)
	}
	return v
}

func (d *ydoc) strList(n *yaml.Node, what string) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, not %s", what, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if s, ok := d.scalar(c, what+" item"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *ydoc) seq(n *yaml.Node, what string) []*yaml.Node {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, not %s", what, kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

// durationSpec reads a duration literal ("10m", "30d") or a reference to a
// duration parameter ("params.window").
func (d *ydoc) durationSpec(n *yaml.Node, what string) *DurationSpec {
	s, ok := d.scalar(n, what)
	if !ok {
		return nil
	}
	ds := &DurationSpec{Line: n.Line, Column: n.Column}
	if name, ok := strings.CutPrefix(strings.TrimSpace(s), "params."); ok {
		ds.Param = name
		return ds
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.errorf(n, "%s: %s", what, err.Error())
		return nil
	}
	ds.D = v
	return ds
}

// source records an expression's text and where it sits in the file.
func (d *ydoc) source(n *yaml.Node, what string) *Source {
	s, ok := d.scalar(n, what)
	if !ok {
		return nil
	}
	if strings.TrimSpace(s) == "" {
		d.errorf(n, "%s must not be empty", what)
		return nil
	}
	return &Source{Text: s, File: d.file, Line: n.Line, Column: n.Column, node: n, doc: d}
}

// position maps a rune offset in the value of scalar n to a line and column
// in the file. It aligns the value's non-space characters with the source
// text, so it is exact for plain, quoted and block scalars (folding and
// indentation only change white space), and falls back to the scalar's
// start where an escape sequence breaks the alignment.
func (d *ydoc) position(n *yaml.Node, offset int) (line, col int) {
	line, col = n.Line, n.Column
	value := []rune(n.Value)
	if offset < 0 || offset >= len(value) {
		return line, col
	}
	for offset < len(value) && unicode.IsSpace(value[offset]) {
		offset++
	}
	if offset >= len(value) {
		return line, col
	}
	li, ci := n.Line-1, n.Column-1
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		li, ci = li+1, 0
	}
	for i := 0; i <= offset; i++ {
		r := value[i]
		if unicode.IsSpace(r) {
			continue
		}
		for {
			if li < 0 || li >= len(d.lines) {
				return n.Line, n.Column
			}
			if ci >= len(d.lines[li]) {
				li, ci = li+1, 0
				continue
			}
			c := d.lines[li][ci]
			if c == r {
				break
			}
			if unicode.IsSpace(c) || c == '"' || c == '\'' || c == '\\' || c == '|' || c == '>' || c == '-' && i == 0 {
				ci++
				continue
			}
			return n.Line, n.Column
		}
		if i == offset {
			return li + 1, ci + 1
		}
		ci++
	}
	return n.Line, n.Column
}

// Source is an expression (or template) as written in a rule file.
type Source struct {
	Text   string
	File   string
	Line   int
	Column int
	node   *yaml.Node
	doc    *ydoc
}

// at returns the file position of a rune offset within the text.
func (s *Source) at(offset int) (line, col int) {
	if s.node == nil || s.doc == nil {
		return s.Line, s.Column
	}
	return s.doc.position(s.node, offset)
}

// DurationSpec is a duration as written: a literal, or a parameter name
// whose (per-tenant) value is the duration.
type DurationSpec struct {
	D      time.Duration
	Param  string
	Line   int
	Column int
}
