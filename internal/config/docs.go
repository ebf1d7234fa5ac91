package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Setting is one documented leaf of a configuration struct.
type Setting struct {
	Path    string // YAML path, kafka.brokers
	Env     string // TRAILWATCH_KAFKA_BROKERS, or "" when not settable from the environment
	Type    string
	Default string
	Doc     string
}

// Settings lists every leaf of cfg (a pointer to a struct holding the
// defaults) in declaration order.
func Settings(cfg any) []Setting {
	var out []Setting
	walk(reflect.ValueOf(cfg).Elem(), "", func(f field) {
		s := Setting{Path: f.path, Doc: f.sf.Tag.Get("doc"), Type: typeName(f.sf.Type)}
		if f.value.IsValid() {
			s.Env = EnvName(f.path)
			s.Default = defaultString(f.value)
		}
		out = append(out, s)
	})
	return out
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "list of strings"
	case t.Kind() == reflect.Slice:
		return "list of objects"
	case t.Kind() == reflect.Map:
		return "map"
	}
	return t.Kind().String()
}

func defaultString(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.Slice:
		parts := make([]string, v.Len())
		for i := range v.Len() {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

// Markdown renders the settings as the body of docs/CONFIG.md.
func Markdown(cfg any) string {
	var b strings.Builder
	b.WriteString("| setting | environment | type | default | meaning |\n|---|---|---|---|---|\n")
	for _, s := range Settings(cfg) {
		env := "`" + s.Env + "`"
		if s.Env == "" {
			env = "(YAML only)"
		}
		def := s.Default
		if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", s.Path, env, s.Type, def, strings.ReplaceAll(s.Doc, "|", "\\|"))
	}
	return b.String()
}
