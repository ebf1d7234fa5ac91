package tracking

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// Levels, least kept first.
const (
	Basic    = "basic"
	Standard = "standard"
	Advanced = "advanced"
)

// Drop reasons (metric label values).
const (
	ReasonLevel            = "level"
	ReasonObjectExcluded   = "object_excluded"
	ReasonObjectNotInclude = "object_not_included"
	ReasonFieldExcluded    = "field_excluded"
)

// Config is the tracking policy of every tenant and source.
type Config struct {
	HMACKeyFile string   `yaml:"hmac_key_file" doc:"File holding the secret key of sensitive fields masked with hmac (surrounding whitespace trimmed); required when any policy uses hmac."`
	Policies    []Policy `yaml:"policies" doc:"Policies; an event gets the most specific that matches (tenant and source, then tenant, then source, then the one with neither). No match: everything is kept."`
}

// Policy is what is kept of one tenant's and/or source's events.
type Policy struct {
	Tenant         string      `yaml:"tenant" doc:"Tenant the policy applies to; empty for any."`
	Source         string      `yaml:"source" doc:"source.system the policy applies to (salesforce, hubspot, …); empty for any."`
	Level          string      `yaml:"level" doc:"basic (authentication, session, permission, configuration, integration), standard (+ data_change, export) or advanced (+ data_access: views, searches, report runs). Empty: advanced."`
	IncludeObjects []string    `yaml:"include_objects" doc:"When set, events about records (object.type set) are kept only for these object types."`
	ExcludeObjects []string    `yaml:"exclude_objects" doc:"Object types whose events are dropped."`
	ExcludeFields  []string    `yaml:"exclude_fields" doc:"Field names (case-insensitive) whose changes are removed from events."`
	Sensitive      []Sensitive `yaml:"sensitive_fields" doc:"Fields whose old and new values are stored masked."`
}

// Sensitive is one field stored masked.
type Sensitive struct {
	Field string `yaml:"field" doc:"Field name (case-insensitive)."`
	Mask  string `yaml:"mask" doc:"last (keep the last keep characters) or hmac (hmac:<hex>, HMAC-SHA-256 of tenant and value, so equal values match)."`
	Keep  int    `yaml:"keep" doc:"With mask last: how many trailing characters stay (0-8)."`
}

// Validate reports every problem, naming the setting under path.
func (c Config) Validate(path string) error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, setting, fmt.Sprintf(format, args...)))
	}
	seen := map[[2]string]int{}
	usesHMAC := false
	for i, p := range c.Policies {
		at := fmt.Sprintf("policies[%d]", i)
		if j, dup := seen[[2]string{p.Tenant, p.Source}]; dup {
			bad(at, "same tenant %q and source %q as policies[%d]", p.Tenant, p.Source, j)
		}
		seen[[2]string{p.Tenant, p.Source}] = i
		switch p.Level {
		case "", Basic, Standard, Advanced:
		default:
			bad(at+".level", "%q, want basic, standard or advanced", p.Level)
		}
		if len(p.IncludeObjects) > 0 && len(p.ExcludeObjects) > 0 {
			bad(at, "give include_objects or exclude_objects, not both")
		}
		for k, s := range p.Sensitive {
			sat := fmt.Sprintf("%s.sensitive_fields[%d]", at, k)
			if s.Field == "" {
				bad(sat+".field", "required")
			}
			switch s.Mask {
			case "last":
				if s.Keep < 0 || s.Keep > 8 {
					bad(sat+".keep", "must be between 0 and 8, got %d", s.Keep)
				}
			case "hmac":
				usesHMAC = true
			default:
				bad(sat+".mask", "%q, want last or hmac", s.Mask)
			}
		}
	}
	if usesHMAC && c.HMACKeyFile == "" {
		bad("hmac_key_file", "required: a policy masks with hmac")
	}
	return errors.Join(errs...)
}

type compiled struct {
	keep      map[string]bool // categories kept
	include   map[string]bool
	exclude   map[string]bool
	fields    map[string]bool // lower-cased excluded fields
	sensitive map[string]Sensitive
}

// Filter applies a Config to events.
type Filter struct {
	byKey map[[2]string]*compiled
	key   []byte
}

var levelCategories = map[string][]string{
	Basic:    {"authentication", "session", "permission", "configuration", "integration"},
	Standard: {"authentication", "session", "permission", "configuration", "integration", "data_change", "export"},
	Advanced: {"authentication", "session", "permission", "configuration", "integration", "data_change", "export", "data_access"},
}

func set(xs []string, lower bool) map[string]bool {
	if len(xs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		if lower {
			x = strings.ToLower(x)
		}
		m[x] = true
	}
	return m
}

// New validates cfg, reads the HMAC key and returns the filter; a Config
// without policies gives a filter that keeps everything.
func New(cfg Config, path string) (*Filter, error) {
	if err := cfg.Validate(path); err != nil {
		return nil, err
	}
	f := &Filter{byKey: map[[2]string]*compiled{}}
	if cfg.HMACKeyFile != "" {
		b, err := os.ReadFile(cfg.HMACKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.hmac_key_file: %w", path, err)
		}
		f.key = []byte(strings.TrimSpace(string(b)))
		if len(f.key) < 16 {
			return nil, fmt.Errorf("%s.hmac_key_file: the key must be at least 16 bytes, got %d", path, len(f.key))
		}
	}
	for _, p := range cfg.Policies {
		level := p.Level
		if level == "" {
			level = Advanced
		}
		c := &compiled{keep: set(levelCategories[level], false), include: set(p.IncludeObjects, false),
			exclude: set(p.ExcludeObjects, false), fields: set(p.ExcludeFields, true)}
		for _, s := range p.Sensitive {
			if c.sensitive == nil {
				c.sensitive = map[string]Sensitive{}
			}
			c.sensitive[strings.ToLower(s.Field)] = s
		}
		f.byKey[[2]string{p.Tenant, p.Source}] = c
	}
	return f, nil
}

func (f *Filter) policy(tenant, source string) *compiled {
	for _, k := range [][2]string{{tenant, source}, {tenant, ""}, {"", source}, {"", ""}} {
		if c, ok := f.byKey[k]; ok {
			return c
		}
	}
	return nil
}

// Apply applies the event's policy: it returns the reason the event is
// dropped ("" when kept), and for a kept event removes excluded fields'
// changes in place (returning how many) and masks sensitive fields.
func (f *Filter) Apply(e *event.Event) (drop string, removed int) {
	if f == nil || len(f.byKey) == 0 {
		return "", 0
	}
	c := f.policy(e.Tenant, e.Source.System)
	if c == nil {
		return "", 0
	}
	if !c.keep[e.Event.Category] {
		return ReasonLevel, 0
	}
	if t := e.Object.Type; t != "" {
		if c.exclude[t] {
			return ReasonObjectExcluded, 0
		}
		if c.include != nil && !c.include[t] {
			return ReasonObjectNotInclude, 0
		}
	}
	if len(e.Changes) == 0 || (c.fields == nil && c.sensitive == nil) {
		return "", 0
	}
	kept := e.Changes[:0]
	for _, ch := range e.Changes {
		name := strings.ToLower(ch.Field)
		if c.fields[name] {
			removed++
			continue
		}
		if s, ok := c.sensitive[name]; ok {
			ch.Old, ch.New = f.mask(e.Tenant, s, ch.Old), f.mask(e.Tenant, s, ch.New)
		}
		kept = append(kept, ch)
	}
	e.Changes = kept
	return "", removed
}

// mask masks one value; an empty value stays empty (a blank is not a secret
// and tells a clear from a set).
func (f *Filter) mask(tenant string, s Sensitive, v string) string {
	if v == "" {
		return ""
	}
	if s.Mask == "hmac" {
		h := hmac.New(sha256.New, f.key)
		h.Write([]byte(tenant))
		h.Write([]byte{0})
		h.Write([]byte(v))
		return "hmac:" + hex.EncodeToString(h.Sum(nil)[:16])
	}
	n := utf8.RuneCountInString(v)
	if s.Keep >= n {
		return strings.Repeat("*", 4) // too short to keep anything
	}
	cut := len(v)
	for i := 0; i < s.Keep; i++ {
		_, size := utf8.DecodeLastRuneInString(v[:cut])
		cut -= size
	}
	return "****" + v[cut:]
}

// Keeps reports whether level keeps events of category.
func Keeps(level, category string) bool {
	for _, c := range levelCategories[level] {
		if c == category {
			return true
		}
	}
	return false
}

// MasksFields reports whether any policy removes or masks fields.
func (f *Filter) MasksFields() bool {
	if f == nil {
		return false
	}
	for _, c := range f.byKey {
		if c.fields != nil || c.sensitive != nil {
			return true
		}
	}
	return false
}

// MaskRaw applies the field rules to the bytes of a record that could not
// be stored as an event (a dead letter), so that a value the policy masks
// or removes from stored events is not stored through the dead letter
// either. When no policy touches fields, raw is returned as it is. Else
// raw keeps its bytes only if it is a canonical event as JSON (an object
// with a string tenant and an event object) whose changes, if any, are
// objects with a string field: the changes are filtered and masked as
// Apply does, and the object is encoded again. Anything else (not JSON,
// vendor shapes, changes of another shape) could hold a masked field's
// value where no rule can find it: ok is false and nothing of it may be
// stored.
func (f *Filter) MaskRaw(raw []byte) (out []byte, ok bool) {
	if !f.MasksFields() {
		return raw, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || dec.More() {
		return nil, false
	}
	tenant, okT := obj["tenant"].(string)
	if _, okE := obj["event"].(map[string]any); !okT || !okE {
		return nil, false
	}
	source := ""
	if src, ok := obj["source"].(map[string]any); ok {
		source, _ = src["system"].(string)
	}
	c := f.policy(tenant, source)
	chs, has := obj["changes"]
	if c == nil || !has || (c.fields == nil && c.sensitive == nil) {
		return raw, true
	}
	list, isList := chs.([]any)
	if !isList {
		return nil, false
	}
	kept := make([]any, 0, len(list))
	for _, item := range list {
		ch, isObj := item.(map[string]any)
		field, isStr := ch["field"].(string)
		if !isObj || !isStr {
			return nil, false
		}
		name := strings.ToLower(field)
		if c.fields[name] {
			continue
		}
		if s, sensitive := c.sensitive[name]; sensitive {
			for _, k := range []string{"old", "new"} {
				switch v := ch[k].(type) {
				case string:
					ch[k] = f.mask(tenant, s, v)
				case nil:
				default:
					return nil, false // a value that is not text: not maskable as Apply masks
				}
			}
		}
		kept = append(kept, ch)
	}
	obj["changes"] = kept
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, false
	}
	return b, true
}
