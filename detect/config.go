package detect

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the engine's configuration: limits, the default working
// calendar, and per-tenant calendars, lists and rule overrides.
type Config struct {
	Lateness        time.Duration           `yaml:"lateness" doc:"How far behind the newest event time an event may be and still join windows and sequences in its right place; later events are counted and only single-event rules see them."`
	MaxKeysPerRule  int                     `yaml:"max_keys_per_rule" doc:"Most group keys one rule tracks per shard; beyond it the least recently active key is evicted and counted."`
	MaxWindowEvents int                     `yaml:"max_window_events" doc:"Most events one group's window or sequence step keeps; beyond it the oldest is dropped and counted."`
	MaxValues       int                     `yaml:"max_values" doc:"Most distinct values a new_value rule remembers per group; beyond it the least recently seen is forgotten."`
	Calendar        Calendar                `yaml:"calendar" doc:"The working calendar for tenants that do not set their own."`
	Tenants         map[string]TenantConfig `yaml:"tenants" doc:"Per-tenant calendars, lists and rule overrides, by tenant id."`
}

// Calendar says when a tenant works. Business hours are evaluated in the
// actor's zone: user.timezone when set and known, else the timestamp's own
// offset when it is not UTC, else Zone, else UTC.
type Calendar struct {
	Zone     string   `yaml:"zone" doc:"IANA zone for events whose actor zone is unknown and whose timestamp is in UTC."`
	Days     []string `yaml:"days" doc:"Working days: mon, tue, wed, thu, fri, sat, sun."`
	Hours    string   `yaml:"hours" doc:"Working hours, local: \"08:00-18:00\", several ranges comma-separated; a range may wrap midnight (\"22:00-06:00\")."`
	Holidays []string `yaml:"holidays" doc:"Dates (YYYY-MM-DD) that are not working days."`
}

// TenantConfig overrides the defaults for one tenant.
type TenantConfig struct {
	Calendar *Calendar               `yaml:"calendar" doc:"The tenant's working calendar."`
	Lists    map[string][]string     `yaml:"lists" doc:"Lists whose items replace the shared list's for this tenant."`
	Rules    map[string]RuleOverride `yaml:"rules" doc:"Overrides by rule id."`
}

// RuleOverride changes one rule for one tenant.
type RuleOverride struct {
	Disabled bool              `yaml:"disabled" doc:"Do not run the rule for this tenant."`
	Params   map[string]string `yaml:"params" doc:"Parameter values, written as in the rule (5, 0.5, 10m, true)."`
	Actions  map[string]string `yaml:"actions" doc:"Action mode by action type: enforce, dry_run or approval."`
	// ListParams holds list-valued parameters (type strings).
	ListParams map[string][]string `yaml:"-"`
}

// DefaultConfig is the configuration an engine runs with unless told
// otherwise.
func DefaultConfig() Config {
	return Config{
		Lateness:        time.Minute,
		MaxKeysPerRule:  2_000_000,
		MaxWindowEvents: 10_000,
		MaxValues:       64,
		Calendar:        DefaultCalendar(),
	}
}

// DefaultCalendar is Monday to Friday, 08:00 to 18:00, no holidays, zone
// unknown (UTC).
func DefaultCalendar() Calendar {
	return Calendar{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: "08:00-18:00"}
}

// Validate reports every problem of the configuration at once, naming the
// setting.
func (c Config) Validate() error {
	var errs []error
	if c.Lateness < 0 {
		errs = append(errs, fmt.Errorf("lateness: must not be negative, got %s", c.Lateness))
	}
	if c.MaxKeysPerRule < 1 {
		errs = append(errs, fmt.Errorf("max_keys_per_rule: must be at least 1, got %d", c.MaxKeysPerRule))
	}
	if c.MaxWindowEvents < 2 {
		errs = append(errs, fmt.Errorf("max_window_events: must be at least 2, got %d", c.MaxWindowEvents))
	}
	if c.MaxValues < 1 {
		errs = append(errs, fmt.Errorf("max_values: must be at least 1, got %d", c.MaxValues))
	}
	if _, err := compileCalendar(c.Calendar); err != nil {
		errs = append(errs, fmt.Errorf("calendar: %w", err))
	}
	for _, t := range sortedKeys(c.Tenants) {
		tc := c.Tenants[t]
		if tc.Calendar != nil {
			if _, err := compileCalendar(*tc.Calendar); err != nil {
				errs = append(errs, fmt.Errorf("tenants.%s.calendar: %w", t, err))
			}
		}
		for _, r := range sortedKeys(tc.Rules) {
			for typ, mode := range tc.Rules[r].Actions {
				if mode != "enforce" && mode != "dry_run" && mode != "approval" {
					errs = append(errs, fmt.Errorf("tenants.%s.rules.%s.actions.%s: mode %q must be enforce, dry_run or approval", t, r, typ, mode))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LoadConfig reads a configuration file (YAML, the keys of Config) over the
// defaults.
func LoadConfig(path string) (Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading detect config: %w", err)
	}
	return ParseConfig(path, src)
}

// ParseConfig parses configuration YAML over the defaults; errors carry the
// file and line.
func ParseConfig(file string, src []byte) (Config, error) {
	d := newYdoc(file, src)
	root := d.parse(src)
	if root == nil {
		if len(d.errs) > 0 && d.errs[0].Msg == "empty file" {
			return DefaultConfig(), nil
		}
		return Config{}, d.errs
	}
	c := d.parseConfig(root)
	if len(d.errs) > 0 {
		return Config{}, d.errs
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

var configKeys = []string{"lateness", "max_keys_per_rule", "max_window_events", "max_values", "calendar", "tenants"}

func (d *ydoc) parseConfig(n *yaml.Node) Config {
	c := DefaultConfig()
	for _, kv := range d.mapping(n, "config", configKeys) {
		switch kv.key {
		case "lateness":
			if ds := d.durationSpec(kv.v, "lateness"); ds != nil {
				if ds.Param != "" {
					d.errorf(kv.v, "lateness must be a duration")
				}
				c.Lateness = ds.D
			}
		case "max_keys_per_rule":
			c.MaxKeysPerRule = d.integer(kv.v, "max_keys_per_rule")
		case "max_window_events":
			c.MaxWindowEvents = d.integer(kv.v, "max_window_events")
		case "max_values":
			c.MaxValues = d.integer(kv.v, "max_values")
		case "calendar":
			c.Calendar = d.parseCalendar(kv.v, "calendar")
		case "tenants":
			c.Tenants = map[string]TenantConfig{}
			for _, tkv := range d.mapping(kv.v, "tenants", nil) {
				c.Tenants[tkv.key] = d.parseTenant(tkv.v, "tenants."+tkv.key)
			}
		}
	}
	return c
}

func (d *ydoc) parseCalendar(n *yaml.Node, what string) Calendar {
	c := DefaultCalendar()
	for _, kv := range d.mapping(n, what, []string{"zone", "days", "hours", "holidays"}) {
		switch kv.key {
		case "zone":
			c.Zone = d.str(kv.v, what+".zone")
		case "days":
			c.Days = d.strList(kv.v, what+".days")
		case "hours":
			c.Hours = d.str(kv.v, what+".hours")
		case "holidays":
			c.Holidays = d.strList(kv.v, what+".holidays")
		}
	}
	if _, err := compileCalendar(c); err != nil {
		d.errorf(n, "%s: %s", what, err.Error())
	}
	return c
}

func (d *ydoc) parseTenant(n *yaml.Node, what string) TenantConfig {
	var t TenantConfig
	for _, kv := range d.mapping(n, what, []string{"calendar", "lists", "rules"}) {
		switch kv.key {
		case "calendar":
			c := d.parseCalendar(kv.v, what+".calendar")
			t.Calendar = &c
		case "lists":
			t.Lists = map[string][]string{}
			for _, lkv := range d.mapping(kv.v, what+".lists", nil) {
				t.Lists[lkv.key] = d.strList(lkv.v, what+".lists."+lkv.key)
			}
		case "rules":
			t.Rules = map[string]RuleOverride{}
			for _, rkv := range d.mapping(kv.v, what+".rules", nil) {
				t.Rules[rkv.key] = d.parseOverride(rkv.v, what+".rules."+rkv.key)
			}
		}
	}
	return t
}

func (d *ydoc) parseOverride(n *yaml.Node, what string) RuleOverride {
	var o RuleOverride
	for _, kv := range d.mapping(n, what, []string{"disabled", "params", "actions"}) {
		switch kv.key {
		case "disabled":
			o.Disabled = d.boolean(kv.v, what+".disabled")
		case "params":
			o.Params = map[string]string{}
			for _, pkv := range d.mapping(kv.v, what+".params", nil) {
				if pv := deref(pkv.v); pv != nil && pv.Kind == yaml.SequenceNode {
					if o.ListParams == nil {
						o.ListParams = map[string][]string{}
					}
					o.ListParams[pkv.key] = d.strList(pv, what+".params."+pkv.key)
					continue
				}
				o.Params[pkv.key] = d.str(pkv.v, what+".params."+pkv.key)
			}
		case "actions":
			o.Actions = map[string]string{}
			for _, akv := range d.mapping(kv.v, what+".actions", nil) {
				mode := d.str(akv.v, what+".actions."+akv.key)
				if mode != "enforce" && mode != "dry_run" && mode != "approval" {
					d.errorf(akv.v, "%s.actions.%s: mode %q must be enforce, dry_run or approval", what, akv.key, mode)
				}
				o.Actions[akv.key] = mode
			}
		}
	}
	return o
}
