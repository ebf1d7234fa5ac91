package shadow

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func kinds(fs []Finding, s string) string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s[%s]", f.Kind, s[f.Start:f.End]))
	}
	return strings.Join(out, " ")
}

func TestScan(t *testing.T) {
	free := Options{FreeText: true}
	for _, tc := range []struct {
		in   string
		opt  Options
		want string
	}{
		// Planted true positives.
		{"card 4111 1111 1111 1111 on file", free, "card_number[4111 1111 1111 1111]"},
		{"mc 5500-0000-0000-0004.", free, "card_number[5500-0000-0000-0004]"},
		{"amex 378282246310005 or 3782 822463 10005", free, "card_number[378282246310005] card_number[3782 822463 10005]"},
		{"6011111111111117", Options{}, "card_number[6011111111111117]"},
		{"SSN 123-45-6789 per call", free, "us_ssn[123-45-6789]"},
		{"ssn: 078 05 1120", free, "us_ssn[078 05 1120]"},
		{"pay to DE89 3704 0044 0532 0130 00 please", free, "iban[DE89 3704 0044 0532 0130 00]"},
		{"GB82WEST12345698765432", Options{}, "iban[GB82WEST12345698765432]"},
		{"Passport no: X1234567 (renewal)", free, "passport_number[X1234567]"},
		{"PASSPORT#K12345678", free, "passport_number[K12345678]"},
		{"call jane.doe+x@mail.example.com tomorrow", free, "email[jane.doe+x@mail.example.com]"},
		{"reach him at +1 415 555 0100 or 415-555-0199", free, "phone[+1 415 555 0100] phone[415-555-0199]"},
		{"two: 4111111111111111, 123-45-6789", free, "card_number[4111111111111111] us_ssn[123-45-6789]"},
		// Look-alikes that must not be found.
		{"card 4111 1111 1111 1112", free, ""},            // fails Luhn
		{"order ORD-4111111111111111", free, ""},          // an order id
		{"invoice INV4111111111111111", free, ""},         // letters attached
		{"ref 1234567812345678", free, ""},                // 1… is no card network
		{"000-12-3456 666-12-3456 900-12-3456", free, ""}, // invalid SSN areas
		{"123-00-4567 123-45-0000", free, ""},             // invalid group, serial
		{"due 2026-11-03, paid 03/11/2026", free, ""},     // dates
		{"at 2026-11-03T09:00:00Z", free, ""},             // timestamps
		{"amount 1234567.89 and 4111111111111111.5", free, ""},
		{"DE89 3704 0044 0532 0130 01", free, ""}, // bad IBAN checksum
		{"XX89370400440532013000", free, ""},      // unknown country
		{"the passport office is closed", free, ""},
		{"jane@example.com", Options{}, ""},    // e-mail in a structured field
		{"415-555-0199", Options{}, ""},        // phone in a structured field
		{"user@localhost and a@b.c", free, ""}, // not an address
		{"version 10.2.3 build 2026", free, ""},
		{"", free, ""},
	} {
		if got := kinds(Scan(tc.in, tc.opt), tc.in); got != tc.want {
			t.Errorf("Scan(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{"79927398713": true, "79927398710": false, "0": false, "4111111111111111": true} {
		d := make([]byte, len(s))
		for i := range s {
			d[i] = s[i] - '0'
		}
		if Luhn(d) != want {
			t.Errorf("Luhn(%s) != %v", s, want)
		}
	}
}

func TestMaskEvent(t *testing.T) {
	e := &event.Event{ID: "e1", Timestamp: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Tenant: "acme",
		Event:  event.Activity{Category: "data_change", Action: "update", Outcome: "success"},
		User:   event.User{ID: "005a"},
		Object: event.Object{Type: "case", ID: "500X"},
		Changes: []event.Change{
			{Field: "Description", Old: "", New: "Customer card 4111 1111 1111 1111, mail jane@acme.example"},
			{Field: "Email", Old: "a@acme.example", New: "jane@acme.example"},
			{Field: "Notes", Old: "order ORD-2026-000123", New: "SSN 123-45-6789"},
		},
		Comment: "per phone call",
	}
	hits := MaskEvent(e)
	var got []string
	for _, h := range hits {
		got = append(got, fmt.Sprintf("%s %s %s", h.Where, h.Kind, h.Sample))
	}
	want := []string{
		"changes.Description.new card_number **** **** **** 1111",
		"changes.Description.new email j***@acme.example",
		"changes.Notes.new us_ssn ***-**-6789",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hits:\n%q\nwant\n%q", got, want)
	}
	if e.Changes[0].New != "Customer card **** **** **** 1111, mail j***@acme.example" || e.Changes[2].New != "SSN ***-**-6789" ||
		e.Changes[1].New != "jane@acme.example" || e.Changes[2].Old != "order ORD-2026-000123" {
		t.Errorf("masked event: %+v", e.Changes)
	}
	if k := Kinds(hits); fmt.Sprint(k) != "[card_number email us_ssn]" {
		t.Errorf("kinds %q", k)
	}
	if f := Fields(hits); fmt.Sprint(f) != "[changes.Description.new changes.Notes.new]" {
		t.Errorf("fields %q", f)
	}
	for _, s := range Samples(hits) {
		if strings.Contains(s, "4111 1111 1111 1111") || strings.Contains(s, "123-45") || strings.Contains(s, "jane@") {
			t.Errorf("unmasked sample %q", s)
		}
	}

	export := &event.Event{ID: "x", Event: event.Activity{Category: "export", Action: "export"}, Object: event.Object{Type: "report", Name: "Leads of jane@acme.example"}}
	if h := MaskEvent(export); len(h) != 1 || export.Object.Name != "Leads of j***@acme.example" {
		t.Errorf("report name: %v %q", h, export.Object.Name)
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{"4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "passport X1234567", "a@b.co", "+1 415 555 0100", "123-45-6789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs := Scan(s, Options{FreeText: true})
		last := 0
		for _, x := range fs {
			if x.Start < last || x.End <= x.Start || x.End > len(s) {
				t.Fatalf("bad finding %+v in %q", x, s)
			}
			last = x.End
		}
		if m := Mask(s, fs); len(m) != len(s) {
			t.Fatalf("mask changed the length: %q → %q", s, m)
		}
	})
}

// TestFindLeavesTheEvent: Find reports what MaskEvent masks, in the same
// fields, and changes nothing.
func TestFindLeavesTheEvent(t *testing.T) {
	mk := func() *event.Event {
		return &event.Event{Event: event.Activity{Category: "data_access", Action: "report_run"},
			Object:  event.Object{Type: "report", Name: "Calls for +44 20 7946 0958"},
			Comment: "card 4111-1111-1111-1111",
			Changes: []event.Change{{Field: "Phone", Old: "+44 20 7946 0958", New: "IBAN GB82 WEST 1234 5698 7654 32"}}}
	}
	e, m := mk(), mk()
	found, masked := Find(e), MaskEvent(m)
	if fmt.Sprint(found) != fmt.Sprint(masked) || len(found) != 3 {
		t.Errorf("Find %v, MaskEvent %v", found, masked)
	}
	if !e.Equal(mk()) {
		t.Errorf("Find changed the event: %+v", e)
	}
	if clean := (&event.Event{Event: event.Activity{Category: "data_change"}, Changes: []event.Change{{Field: "Stage", New: "Won"}}}); Find(clean) != nil {
		t.Error("hits in a clean event")
	}
}

func TestMaskRaw(t *testing.T) {
	raw := []byte(`{"id":"e1","tenant":"acme","user":{"name":"jane@acme.example"},"comment":"card 4111 1111 1111 1111","timestamp":"2026-11-03T09:00:00Z"}`)
	got := MaskRaw(raw)
	want := `{"id":"e1","tenant":"acme","user":{"name":"j***@acme.example"},"comment":"card **** **** **** 1111","timestamp":"2026-11-03T09:00:00Z"}`
	if string(got) != want || len(got) != len(raw) {
		t.Errorf("MaskRaw:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(string(raw), "4111 1111 1111 1111") {
		t.Error("MaskRaw changed its input")
	}
	clean := []byte(`{"id":"e2","records":12}`)
	if g := MaskRaw(clean); &g[0] != &clean[0] {
		t.Error("a clean input was copied")
	}
}

// TestMisplaced: a value of a kind in a field named for it is where it
// belongs; the same value elsewhere, or another kind there, is not.
func TestMisplaced(t *testing.T) {
	e := &event.Event{Event: event.Activity{Category: "data_change", Action: "update"}, Changes: []event.Change{
		{Field: "IBAN", Old: "", New: "DE89 3704 0044 0532 0130 00"},
		{Field: "Bank_Account__c", Old: "DE89370400440532013000", New: ""},
		{Field: "CardNumber__c", Old: "", New: "4111111111111111"},
		{Field: "SSN__c", Old: "", New: "123-45-6789"},
		{Field: "Passport_No__c", Old: "", New: "passport X1234567"},
		{Field: "Description", Old: "", New: "IBAN DE89 3704 0044 0532 0130 00"},
		{Field: "IBAN", Old: "", New: "card 4111 1111 1111 1111"},
	}, Comment: "card 4111 1111 1111 1111"}
	hits := Find(e)
	if len(hits) != 8 {
		t.Fatalf("Find: %v", hits)
	}
	var got []string
	for _, h := range Misplaced(hits) {
		got = append(got, string(h.Kind)+" "+h.Where)
	}
	if want := "[iban changes.Description.new card_number changes.IBAN.new card_number comment]"; fmt.Sprint(got) != want {
		t.Errorf("Misplaced: %v, want %s", got, want)
	}
	clean := hits[5:6]
	if m := Misplaced(clean); &m[0] != &clean[0] {
		t.Error("Misplaced copied hits it kept whole")
	}
}
