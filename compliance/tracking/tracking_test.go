package tracking

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func ev(tenant, source, category, objectType string, changes ...event.Change) *event.Event {
	return &event.Event{Tenant: tenant, Source: event.Source{System: source}, Event: event.Activity{Category: category},
		Object: event.Object{Type: objectType}, Changes: changes}
}

func keyFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApply(t *testing.T) {
	f, err := New(Config{HMACKeyFile: keyFile(t), Policies: []Policy{
		{Level: Standard}, // everyone else
		{Tenant: "acme", Level: Advanced, ExcludeObjects: []string{"case"}, ExcludeFields: []string{"Description"},
			Sensitive: []Sensitive{{Field: "SSN__c", Mask: "last", Keep: 4}, {Field: "email", Mask: "hmac"}}},
		{Tenant: "acme", Source: "hubspot", Level: Basic},
		{Source: "dynamics365", IncludeObjects: []string{"account"}},
	}}, "sink.tracking")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		e    *event.Event
		want string
	}{
		{"standard drops views", ev("globex", "salesforce", "data_access", "contact"), ReasonLevel},
		{"standard keeps changes", ev("globex", "salesforce", "data_change", "contact"), ""},
		{"tenant policy keeps views", ev("acme", "salesforce", "data_access", "contact"), ""},
		{"tenant excludes an object", ev("acme", "salesforce", "data_change", "case"), ReasonObjectExcluded},
		{"tenant+source is most specific", ev("acme", "hubspot", "data_change", "contact"), ReasonLevel},
		{"basic keeps logins", ev("acme", "hubspot", "authentication", ""), ""},
		{"source includes objects", ev("initech", "dynamics365", "data_change", "contact"), ReasonObjectNotInclude},
		{"included object", ev("initech", "dynamics365", "data_change", "account"), ""},
		{"no object is not filtered by object lists", ev("initech", "dynamics365", "authentication", ""), ""},
	} {
		if got, _ := f.Apply(tc.e); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	e := ev("acme", "salesforce", "data_change", "contact",
		event.Change{Field: "description", Old: "x", New: "y"},
		event.Change{Field: "SSN__c", Old: "", New: "123-45-6789"},
		event.Change{Field: "Email", Old: "a@x.example", New: "b@x.example"},
		event.Change{Field: "Phone", Old: "1", New: "2"})
	drop, removed := f.Apply(e)
	if drop != "" || removed != 1 || len(e.Changes) != 3 {
		t.Fatalf("drop %q, removed %d, changes %v", drop, removed, e.Changes)
	}
	if c := e.Changes[0]; c.Old != "" || c.New != "****6789" {
		t.Errorf("last-4 mask: %+v", c)
	}
	c := e.Changes[1]
	if !strings.HasPrefix(c.Old, "hmac:") || len(c.Old) != 37 || c.Old == c.New || strings.Contains(c.Old+c.New, "@") {
		t.Errorf("hmac mask: %+v", c)
	}
	// Equal values of one tenant match; another tenant's do not.
	e2 := ev("acme", "salesforce", "data_change", "lead", event.Change{Field: "EMAIL", Old: "b@x.example"})
	f.Apply(e2)
	if e2.Changes[0].Old != c.New {
		t.Errorf("equal values masked differently: %q %q", e2.Changes[0].Old, c.New)
	}
	if e.Changes[2] != (event.Change{Field: "Phone", Old: "1", New: "2"}) {
		t.Errorf("untouched field changed: %+v", e.Changes[2])
	}
	var nilFilter *Filter
	if d, _ := nilFilter.Apply(ev("a", "b", "data_access", "c")); d != "" {
		t.Error("a nil filter dropped")
	}
}

func TestValidate(t *testing.T) {
	err := Config{Policies: []Policy{
		{Level: "everything"},
		{Level: Basic},
		{Tenant: "a", IncludeObjects: []string{"x"}, ExcludeObjects: []string{"y"},
			Sensitive: []Sensitive{{Mask: "rot13"}, {Field: "f", Mask: "last", Keep: 12}, {Field: "g", Mask: "hmac"}}},
	}}.Validate("sink.tracking")
	for _, want := range []string{
		`sink.tracking.policies[0].level: "everything"`,
		`sink.tracking.policies[1]: same tenant "" and source "" as policies[0]`,
		"sink.tracking.policies[2]: give include_objects or exclude_objects, not both",
		"sink.tracking.policies[2].sensitive_fields[0].field: required",
		`sink.tracking.policies[2].sensitive_fields[0].mask: "rot13"`,
		"sink.tracking.policies[2].sensitive_fields[1].keep: must be between 0 and 8, got 12",
		"sink.tracking.hmac_key_file: required",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if _, err := New(Config{HMACKeyFile: "/nonexistent", Policies: []Policy{{Sensitive: []Sensitive{{Field: "f", Mask: "hmac"}}}}}, "t"); err == nil {
		t.Error("a missing key file was accepted")
	}
}

func BenchmarkApply(b *testing.B) {
	f, err := New(Config{Policies: []Policy{{Tenant: "acme", Level: Standard, ExcludeFields: []string{"Description"},
		Sensitive: []Sensitive{{Field: "SSN__c", Mask: "last", Keep: 4}}}}}, "t")
	if err != nil {
		b.Fatal(err)
	}
	src := []event.Change{{Field: "StageName", Old: "a", New: "b"}, {Field: "Amount", Old: "1", New: "2"}}
	changes := make([]event.Change, len(src))
	b.ReportAllocs()
	for b.Loop() {
		copy(changes, src)
		e := event.Event{Tenant: "acme", Source: event.Source{System: "salesforce"}, Event: event.Activity{Category: "data_change"}, Changes: changes}
		if d, _ := f.Apply(&e); d != "" {
			b.Fatal(d)
		}
	}
}

// TestMaskRaw: a dead letter's bytes get the field rules of stored
// events, and bytes the rules cannot be applied to are not kept.
func TestMaskRaw(t *testing.T) {
	f, err := New(Config{Policies: []Policy{{Tenant: "acme", ExcludeFields: []string{"Description"},
		Sensitive: []Sensitive{{Field: "TaxId__c", Mask: "last", Keep: 2}}}}}, "sink.tracking")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, raw, want string
		ok              bool
	}{
		{"masked and removed",
			`{"tenant":"acme","event":{"category":"data_change"},"timestamp":"yesterday","changes":[{"field":"taxid__C","old":"123456789","new":""},{"field":"Description","old":"a","new":"b"},{"field":"Stage","old":"x","new":"y"}]}`,
			`{"changes":[{"field":"taxid__C","new":"","old":"****89"},{"field":"Stage","new":"y","old":"x"}],"event":{"category":"data_change"},"tenant":"acme","timestamp":"yesterday"}`, true},
		{"another tenant's policy-free event", `{"tenant":"globex","event":{},"changes":[{"field":"TaxId__c","old":"123456789"}]}`,
			`{"tenant":"globex","event":{},"changes":[{"field":"TaxId__c","old":"123456789"}]}`, true},
		{"no changes", `{"tenant":"acme","event":{},"comment":"x"}`, `{"tenant":"acme","event":{},"comment":"x"}`, true},
		{"not JSON", `{"tenant":"acme","changes":[{"field":"TaxId__c","old":"123456789"`, "", false},
		{"a vendor shape", `{"Field":"TaxId__c","OldValue":"123456789"}`, "", false},
		{"changes not a list", `{"tenant":"acme","event":{},"changes":{"TaxId__c":"123456789"}}`, "", false},
		{"a change without a field name", `{"tenant":"acme","event":{},"changes":[{"old":"123456789"}]}`, "", false},
		{"a sensitive value that is not text", `{"tenant":"acme","event":{},"changes":[{"field":"TaxId__c","old":123456789}]}`, "", false},
		{"two values", `{"tenant":"acme","event":{}} {"x":1}`, "", false},
	} {
		got, ok := f.MaskRaw([]byte(c.raw))
		if ok != c.ok || string(got) != c.want {
			t.Errorf("%s: %s, %v; want %s, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	plain, _ := New(Config{Policies: []Policy{{Level: Basic}}}, "sink.tracking")
	if got, ok := plain.MaskRaw([]byte("anything")); !ok || string(got) != "anything" {
		t.Errorf("a policy that touches no field changed the bytes: %q %v", got, ok)
	}
}
