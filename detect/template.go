package detect

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas/alert"
)

// A summary template is text with {{ expression }} placeholders. Each
// placeholder is an expr-lang expression, compiled and type-checked at load
// like every other expression (a typo in a summary is a load error, not a
// blank in an alert at 3 a.m.), over the triggering event, the group, the
// aggregates and the rule's values.

type tmplPart struct {
	lit string
	e   *cexpr // nil for a literal
}

type template struct {
	parts []tmplPart
}

// compileTemplate splits src into literals and expressions.
func (ec *exprCompiler) compileTemplate(src *Source, sc *scope) *template {
	t := &template{}
	runes := []rune(src.Text)
	i := 0
	for i < len(runes) {
		open := indexRunes(runes, i, "{{")
		if open < 0 {
			t.parts = append(t.parts, tmplPart{lit: string(runes[i:])})
			break
		}
		if open > i {
			t.parts = append(t.parts, tmplPart{lit: string(runes[i:open])})
		}
		end := indexRunes(runes, open+2, "}}")
		if end < 0 {
			ec.errAt(src, open, "%s: {{ without a closing }}", sc.what)
			return nil
		}
		inner := string(runes[open+2 : end])
		if strings.TrimSpace(inner) == "" {
			ec.errAt(src, open, "%s: empty {{ }}", sc.what)
			return nil
		}
		ce := ec.compile(src, inner, open+2, sc)
		if ce == nil {
			return nil
		}
		t.parts = append(t.parts, tmplPart{e: ce})
		i = end + 2
	}
	return t
}

func indexRunes(rs []rune, from int, pat string) int {
	p := []rune(pat)
	for i := from; i+len(p) <= len(rs); i++ {
		match := true
		for j := range p {
			if rs[i+j] != p[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// render evaluates the template. Placeholders that fail render as "?".
func (t *template) render(ev func(*cexpr) (any, error)) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.e == nil {
			b.WriteString(p.lit)
			continue
		}
		v, err := ev(p.e)
		if err != nil {
			b.WriteString("?")
			continue
		}
		b.WriteString(formatValue(v))
	}
	return b.String()
}

// formatValue writes a value for a human: whole numbers without decimals,
// others with one, lists comma-separated, durations as rules write them.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return formatNumber(x)
	case float32:
		return formatNumber(float64(x))
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Duration:
		return FormatDuration(x.Round(time.Second))
	case time.Time:
		return alert.FormatTime(x)
	case []string:
		return strings.Join(x, ", ")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = formatValue(rv.Index(i).Interface())
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func formatNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "?"
	}
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// jsonValue makes a value safe and stable for an alert's values: no NaN or
// infinities, durations and times as strings, and strings copied (a value
// read from the event must not point into the caller's buffer).
func jsonValue(v any) any {
	switch x := v.(type) {
	case string:
		return strings.Clone(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return int64(x)
		}
		return math.Round(x*1000) / 1000
	case float32:
		return jsonValue(float64(x))
	case time.Duration:
		return FormatDuration(x)
	case time.Time:
		return alert.FormatTime(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = strings.Clone(s)
		}
		return out
	}
	return v
}
