package runner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// A rule's state is per group key, and a shard sees one partition. On
// crm.activity (keyed by tenant and person) that is all of a group's events
// only when the group follows the person: group_by [person], [user.id], or
// anything that includes one of them. Other rules (grouped by a record, a
// login name, or the tenant alone) run on the re-keyed stream: the main
// stream forwards the events their filters take to the re-keyed topic, keyed by
// their group_by fields, and shards of that topic run them.
//
// Rules are split by signature (their group_by as written): a re-keyed
// copy carries its signature, and only the engine of that signature sees
// it, since a copy keyed by one signature is a partial view for any other.

// Set is one loaded version of the rules, split into the streams that run
// them. It is immutable; a reload builds a new one.
type Set struct {
	// Version identifies the rules and engine configuration (the full
	// engine's fingerprint).
	Version string
	// Full is every rule in one engine (descriptions, spans).
	Full *detect.Engine
	// Main runs on crm.activity.
	Main *stream
	// Rekeyed runs on the re-keyed topic, by signature.
	Rekeyed map[string]*stream
	sigs    []string // sorted keys of Rekeyed
}

// stream is the rules one kind of shard runs.
type stream struct {
	sig   string // "" for the main stream, else the group_by items joined by ","
	eng   *detect.Engine
	rules []string
	// horizon is the event time a replay must cover to rebuild the state:
	// the longest rule span plus the allowed lateness.
	horizon time.Duration
	// key extracts the group_by fields a copy is keyed by; nil when one
	// is not a plain field (then copies are keyed by tenant alone, which is
	// correct but puts a tenant's copies in one partition).
	key []func(*event.Event) string
}

// buildSet compiles rs under cfg and splits it into streams. local names
// the group_by items that follow the crm.activity key.
func buildSet(rs *detect.RuleSet, cfg detect.Config, local []string) (*Set, error) {
	full, err := detect.NewEngine(rs, cfg)
	if err != nil {
		return nil, err
	}
	mainRules := map[string]bool{}
	bySig := map[string]map[string]bool{}
	for _, ri := range full.Rules() {
		if isLocal(ri, full.Span(ri.ID), local) {
			mainRules[ri.ID] = true
			continue
		}
		sig := strings.Join(ri.GroupBy, ",")
		if bySig[sig] == nil {
			bySig[sig] = map[string]bool{}
		}
		bySig[sig][ri.ID] = true
	}
	s := &Set{Version: full.Fingerprint(), Full: full, Rekeyed: map[string]*stream{}}
	if s.Main, err = newStream(rs, cfg, "", mainRules, full); err != nil {
		return nil, err
	}
	for sig, ids := range bySig {
		st, err := newStream(rs, cfg, sig, ids, full)
		if err != nil {
			return nil, err
		}
		s.Rekeyed[sig] = st
		s.sigs = append(s.sigs, sig)
	}
	slices.Sort(s.sigs)
	return s, nil
}

// isLocal says whether a rule can run on crm.activity: it keeps no state
// (a single-event rule without suppression), or its group includes an item
// that follows the person.
func isLocal(ri detect.RuleInfo, span time.Duration, local []string) bool {
	if ri.Kind == detect.KindEvent && span == 0 {
		return true
	}
	for _, g := range ri.GroupBy {
		if slices.Contains(local, strings.TrimSpace(g)) {
			return true
		}
	}
	return false
}

// newStream builds the engine of a subset of the rules: a copy of the rule
// set with the other rules disabled, so per-tenant overrides of them stay
// valid and are ignored.
func newStream(rs *detect.RuleSet, cfg detect.Config, sig string, ids map[string]bool, full *detect.Engine) (*stream, error) {
	sub := *rs
	sub.Rules = make([]*detect.Rule, len(rs.Rules))
	for i, r := range rs.Rules {
		c := *r
		c.Disabled = r.Disabled || !ids[r.ID]
		sub.Rules[i] = &c
	}
	eng, err := detect.NewEngine(&sub, cfg)
	if err != nil {
		return nil, fmt.Errorf("rules grouped by [%s]: %w", sig, err)
	}
	st := &stream{sig: sig, eng: eng}
	var span time.Duration
	for _, ri := range eng.Rules() {
		st.rules = append(st.rules, ri.ID)
		span = max(span, full.Span(ri.ID))
	}
	st.horizon = span + cfg.Lateness
	if sig != "" {
		for _, f := range strings.Split(sig, ",") {
			fn := fieldOf(strings.TrimSpace(f))
			if fn == nil {
				st.key = nil
				break
			}
			st.key = append(st.key, fn)
		}
	}
	return st, nil
}

// copyKey is the Kafka key of a re-keyed copy: tenant, signature and the
// group fields, so a group's copies share a partition.
func (st *stream) copyKey(dst []byte, ev *event.Event) []byte {
	dst = append(dst, ev.Tenant...)
	dst = append(dst, 0)
	dst = append(dst, st.sig...)
	for _, f := range st.key {
		dst = append(dst, 0)
		dst = append(dst, f(ev)...)
	}
	return dst
}

// fieldOf returns an accessor for a plain string field of the event as
// rules name it, or nil.
func fieldOf(path string) func(*event.Event) string {
	if l, ok := strings.CutPrefix(path, "labels."); ok {
		return func(e *event.Event) string { return e.Labels[l] }
	}
	fields := map[string]func(*event.Event) string{
		"person":            (*event.Event).PersonKey,
		"id":                func(e *event.Event) string { return e.ID },
		"tenant":            func(e *event.Event) string { return e.Tenant },
		"source.system":     func(e *event.Event) string { return e.Source.System },
		"source.id":         func(e *event.Event) string { return e.Source.ID },
		"source.collector":  func(e *event.Event) string { return e.Source.Collector },
		"event.category":    func(e *event.Event) string { return e.Event.Category },
		"event.action":      func(e *event.Event) string { return e.Event.Action },
		"event.outcome":     func(e *event.Event) string { return e.Event.Outcome },
		"event.reason":      func(e *event.Event) string { return e.Event.Reason },
		"user.id":           func(e *event.Event) string { return e.User.ID },
		"user.name":         func(e *event.Event) string { return e.User.Name },
		"user.person_id":    func(e *event.Event) string { return e.User.PersonID },
		"user.employee_id":  func(e *event.Event) string { return e.User.EmployeeID },
		"user.role":         func(e *event.Event) string { return e.User.Role },
		"user.department":   func(e *event.Event) string { return e.User.Department },
		"user.type":         func(e *event.Event) string { return e.User.Type },
		"user.timezone":     func(e *event.Event) string { return e.User.Timezone },
		"client.ip":         func(e *event.Event) string { return e.Client.IP },
		"client.user_agent": func(e *event.Event) string { return e.Client.UserAgent },
		"client.device_id":  func(e *event.Event) string { return e.Client.DeviceID },
		"client.session_id": func(e *event.Event) string { return e.Client.SessionID },
		"client.access_method": func(e *event.Event) string {
			return e.Client.AccessMethod
		},
		"client.geo.country": func(e *event.Event) string { return e.Client.Geo.Country },
		"client.geo.region":  func(e *event.Event) string { return e.Client.Geo.Region },
		"client.geo.city":    func(e *event.Event) string { return e.Client.Geo.City },
		"object.type":        func(e *event.Event) string { return e.Object.Type },
		"object.id":          func(e *event.Event) string { return e.Object.ID },
		"object.name":        func(e *event.Event) string { return e.Object.Name },
		"object.owner_id":    func(e *event.Event) string { return e.Object.OwnerID },
		"target_user.id":     func(e *event.Event) string { return e.TargetUser.ID },
		"target_user.name":   func(e *event.Event) string { return e.TargetUser.Name },
		"permission.name":    func(e *event.Event) string { return e.Permission.Name },
		"permission.scope":   func(e *event.Event) string { return e.Permission.Scope },
	}
	return fields[path]
}

// streamNames lists a set's streams for logs: "main" and each signature.
func (s *Set) streamNames() []string {
	out := []string{"main"}
	for _, sig := range s.sigs {
		out = append(out, "["+sig+"]")
	}
	return out
}

// streamLabel is a re-keyed stream's metric label: its signature, or
// "tenant" for rules grouped by the tenant alone. The main stream's is
// "main".
func streamLabel(sig string) string {
	if sig == "" {
		return "tenant"
	}
	return sig
}
