package normalize

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest/generic"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// The --format names of shared/contracts/vendor-inputs.md.
var contractFormats = []string{
	"salesforce-loginevent", "salesforce-logoutevent", "salesforce-reportevent", "salesforce-listviewevent",
	"salesforce-apievent", "salesforce-loginasevent", "salesforce-bulkapiresultevent", "salesforce-permissionsetevent",
	"salesforce-setupaudittrail", "salesforce-elf-login", "salesforce-elf-reportexport", "salesforce-elf-api",
	"salesforce-elf-uri", "hubspot-audit-logs", "hubspot-login-activity", "hubspot-security-activity",
	"dynamics365-audit", "generic",
}

func TestEveryContractFormatIsRegistered(t *testing.T) {
	want := slices.Clone(contractFormats)
	slices.Sort(want)
	if got := Formats(); !slices.Equal(got, want) {
		t.Fatalf("Formats() = %v\nwant %v", got, want)
	}
	m, err := generic.Load("../generic/testdata/inhouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range contractFormats {
		n, err := Lookup(name, Options{Mapping: m})
		if err != nil || n.Format() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, n, err)
			continue
		}
		kind, _ := KindOf(name)
		if wantCSV := strings.HasPrefix(name, "salesforce-elf-"); (kind == record.CSV) != wantCSV || n.Kind() != kind {
			t.Errorf("%s: kind %v", name, kind)
		}
	}
	if _, err := Lookup("generic", Options{}); !errors.Is(err, ErrNeedsMapping) {
		t.Errorf("generic without mapping: %v", err)
	}
	if _, err := Lookup("salesforce-loginevents", Options{}); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "salesforce-loginevent,") {
		t.Errorf("unknown format: %v", err)
	}
}

// anyAge validates as the replay path does: the vendors' documented
// examples are years old.
var anyAge = event.Options{}

type collect struct {
	accepted []string // "line:id"
	encoded  []string
	rejected []Reject
}

func (c *collect) Accept(line int, ev *event.Event, enc []byte) error {
	c.accepted = append(c.accepted, strconv.Itoa(line)+":"+ev.ID)
	c.encoded = append(c.encoded, string(enc))
	return nil
}
func (c *collect) Reject(r Reject) error { c.rejected = append(c.rejected, r); return nil }

func TestRunNDJSONKeepsGoingAndNumbersLines(t *testing.T) {
	in := strings.Join([]string{
		`{"EventIdentifier":"a","EventDate":"2020-01-20T19:12:26.965+0000","UserId":"005B0000001vURvIAM","Status":"Success"}`,
		``,
		`{"EventIdentifier":"b","EventDate":"yesterday","UserId":"005B0000001vURvIAM"}`,
		`not json`,
		`{"EventIdentifier":"c","EventDate":"2020-01-20T19:12:26.965Z","UserId":"005B0000001vURvIAM","Status":"Success"}`,
	}, "\n")
	n, _ := Lookup("salesforce-loginevent", Options{})
	var c collect
	res, err := Run(context.Background(), strings.NewReader(in), n, record.Meta{Tenant: "acme"}, anyAge, &c)
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{Accepted: 2, Rejected: 2}) {
		t.Errorf("result %+v", res)
	}
	if !slices.Equal(c.accepted, []string{"1:sf-a", "5:sf-c"}) {
		t.Errorf("accepted %v", c.accepted)
	}
	if len(c.rejected) != 2 || c.rejected[0].Line != 3 || c.rejected[1].Line != 4 ||
		!strings.Contains(c.rejected[0].Error(), `line 3: EventDate: "yesterday" is not a Salesforce date-time`) ||
		string(c.rejected[1].Raw) != "not json" {
		t.Errorf("rejected %+v", c.rejected)
	}
	if !strings.HasPrefix(c.encoded[0], `{"id":"sf-a","timestamp":"2020-01-20T19:12:26.965Z","tenant":"acme"`) {
		t.Errorf("encoded %s", c.encoded[0])
	}
}

func TestRunCSV(t *testing.T) {
	f, err := os.Open("../salesforce/testdata/elf-login.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, _ := Lookup("salesforce-elf-login", Options{})
	var c collect
	res, err := Run(context.Background(), f, n, record.Meta{Tenant: "acme"}, anyAge, &c)
	if err != nil || res != (Result{Accepted: 2}) {
		t.Fatalf("result %+v err %v rejects %v", res, err, c.rejected)
	}
	in := "TIMESTAMP,USER_ID\n20130715233322.670,005B0000001vURv\n20130715233322.670\n20130715233322.670,\n"
	c = collect{}
	res, err = Run(context.Background(), strings.NewReader(in), n, record.Meta{Tenant: "acme"}, anyAge, &c)
	if err != nil || res != (Result{Accepted: 1, Rejected: 2}) {
		t.Fatalf("result %+v err %v", res, err)
	}
	if got := c.rejected[0].Error(); got != "line 3: row has 1 fields, the header has 2 columns" {
		t.Errorf("reject 1: %s", got)
	}
	if got := c.rejected[1].Error(); got != "line 4: column USER_ID is empty" {
		t.Errorf("reject 2: %s", got)
	}
}

func TestRunRefusesNoTenant(t *testing.T) {
	n, _ := Lookup("hubspot-login-activity", Options{})
	if _, err := Run(context.Background(), strings.NewReader("{}"), n, record.Meta{}, anyAge, &collect{}); !errors.Is(err, record.ErrNoTenant) {
		t.Fatalf("err = %v", err)
	}
}

// broken returns an event the contract refuses, to show Normalize's guard.
type broken struct{}

func (broken) Format() string    { return "broken" }
func (broken) Kind() record.Kind { return record.JSON }
func (broken) Normalize(record.Record, record.Meta) (event.Event, error) {
	return event.Event{ID: "x", Tenant: "acme", Timestamp: time.Date(2020, 1, 20, 0, 0, 0, 0, time.UTC), Source: event.Source{System: "broken"}}, nil
}

func TestNormalizeGuardsTheContract(t *testing.T) {
	_, err := Normalize(broken{}, record.Record{Data: []byte("{}")}, record.Meta{Tenant: "acme"}, anyAge)
	if err == nil || !strings.Contains(err.Error(), "the mapped event breaks the contract") || !strings.Contains(err.Error(), "event.category") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunStopsOnContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, _ := Lookup("hubspot-login-activity", Options{})
	if _, err := Run(ctx, strings.NewReader("{}\n"), n, record.Meta{Tenant: "acme"}, anyAge, &collect{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// TestNormalizeLivePathEnforcesTheTimeWindow shows that the options reach
// event.Validate: the live path refuses a record older than its maximum age,
// with a contract error whose Kind a collector counts by.
func TestNormalizeLivePathEnforcesTheTimeWindow(t *testing.T) {
	n, _ := Lookup("salesforce-loginevent", Options{})
	rec := record.Record{Data: []byte(`{"EventIdentifier":"a","EventDate":"2020-01-20T19:12:26.965+0000","UserId":"005B0000001vURvIAM","Status":"Success"}`)}
	live := event.DefaultOptions()
	live.Now = time.Date(2020, 1, 28, 0, 0, 0, 0, time.UTC)
	_, err := Normalize(n, rec, record.Meta{Tenant: "acme"}, live)
	var ve *event.ValidationError
	if !errors.As(err, &ve) || ve.Kind != event.KindTimeWindow || !strings.Contains(err.Error(), "old, limit 168h0m0s") {
		t.Fatalf("live path, 7 days and 4 hours old: %v", err)
	}
	live.Now = time.Date(2020, 1, 21, 0, 0, 0, 0, time.UTC)
	if _, err := Normalize(n, rec, record.Meta{Tenant: "acme"}, live); err != nil {
		t.Fatalf("live path, 5 hours old: %v", err)
	}
	if _, err := Normalize(n, rec, record.Meta{Tenant: "acme"}, anyAge); err != nil {
		t.Fatalf("backfill path: %v", err)
	}
}
