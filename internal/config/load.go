package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable Trailwatch reads.
const EnvPrefix = "TRAILWATCH_"

// LoadFile decodes the YAML file at path into cfg (a pointer to a struct
// already holding the defaults). Unknown keys are errors that name the
// file and line, so a typo is never silently ignored.
func LoadFile(path string, cfg any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// ApplyEnv sets fields from environment variables named after their YAML
// path: kafka.brokers is TRAILWATCH_KAFKA_BROKERS. Lists are
// comma-separated. environ is os.Environ() in production.
func ApplyEnv(cfg any, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}
	var errs []error
	used := map[string]bool{}
	walk(reflect.ValueOf(cfg).Elem(), "", func(f field) {
		name := EnvName(f.path)
		v, ok := env[name]
		if !ok {
			return
		}
		used[name] = true
		if err := setFromString(f.value, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	for k := range env {
		if !used[k] && !knownNonConfigEnv[k] {
			errs = append(errs, fmt.Errorf("%s: no such setting (see docs/CONFIG.md)", k))
		}
	}
	return errors.Join(errs...)
}

// knownNonConfigEnv are TRAILWATCH_* variables read outside the config
// struct (secrets, the engine library, the config file's path).
var knownNonConfigEnv = map[string]bool{
	"TRAILWATCH_CONFIG": true, "TRAILWATCH_CHDB_LIB": true, "TRAILWATCH_CACHE_DIR": true,
	"TRAILWATCH_CLICKHOUSE_PASSWORD": true, "TRAILWATCH_KAFKA_PASSWORD": true,
	"TRAILWATCH_TEST_KAFKA_BROKERS": true, "TRAILWATCH_TEST_LOG": true,
}

// RegisterSecretEnv lets a component declare a TRAILWATCH_* variable it
// reads itself (a token, a password), so ApplyEnv does not reject it.
func RegisterSecretEnv(name string) { knownNonConfigEnv[name] = true }

// EnvName is the environment variable for a YAML path.
func EnvName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(path))
}

type field struct {
	path  string
	value reflect.Value
	sf    reflect.StructField
}

// walk visits every settable leaf field (not structs, not slices of
// structs) with its dotted YAML path.
func walk(v reflect.Value, prefix string, fn func(field)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := strings.Split(sf.Tag.Get("yaml"), ",")
		name := tag[0]
		if name == "-" {
			continue
		}
		if sf.Type.Kind() == reflect.Struct && slices.Contains(tag[1:], "inline") {
			// An inlined struct's fields sit at the level of its parent,
			// as yaml.v3 reads them.
			walk(v.Field(i), prefix, fn)
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		fv := v.Field(i)
		switch {
		case sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeOf(time.Time{}):
			walk(fv, path, fn)
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct,
			sf.Type.Kind() == reflect.Map:
			fn(field{path: path, value: reflect.Value{}, sf: sf}) // documented, not env-settable
		default:
			fn(field{path: path, value: fv, sf: sf})
		}
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

func setFromString(v reflect.Value, s string) error {
	if !v.IsValid() {
		return errors.New("this setting is a list of objects; set it in the YAML file")
	}
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 500ms, 30s, 5m)", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
	case v.Kind() >= reflect.Uint && v.Kind() <= reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", s)
		}
		v.SetUint(n)
	case v.Kind() == reflect.Float64 || v.Kind() == reflect.Float32:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("cannot set a %s from the environment", v.Type())
	}
	return nil
}
