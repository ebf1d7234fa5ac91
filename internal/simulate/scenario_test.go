package simulate

import (
	"os"
	"strings"
	"testing"
)

func TestParseScenarioFile(t *testing.T) {
	src, err := os.ReadFile("testdata/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ParseScenario("testdata/scenario.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Tenants) != 2 || sc.Tenants[0].ID != "bank" || sc.Tenants[0].Weight != 2 || sc.Tenants[1].Hours != "08:00-17:00" ||
		strings.Join(sc.Tenants[1].Days, ",") != "mon,tue,wed,thu,fri" || sc.Tenants[1].Weight != 1 {
		t.Fatalf("parsed %+v", sc.Tenants)
	}
	// The scenario runs, and the in-house CRM keeps the actor's offset.
	cfg := DefaultConfig()
	cfg.Scenario, cfg.Days, cfg.People = sc, 2, 40
	evs, _, _ := generate(t, cfg)
	offsets := 0
	for _, e := range evs {
		if e.Source.System == "generic" {
			if _, off := e.Timestamp.Zone(); off == 4*3600 {
				offsets++
			}
		}
	}
	if offsets == 0 {
		t.Error("no generic-CRM event kept Dubai's offset")
	}
}

func TestParseScenarioErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"not yaml", "tenants: [", []string{"s.yaml: "}},
		{"empty", "", []string{"s.yaml: empty scenario"}},
		{"no tenants", "tenants: []\n", []string{"s.yaml:1:1: tenants: at least one tenant is required"}},
		{"unknown top key", "tenant: []\n", []string{`s.yaml:1:1: tenant: unknown field (want one of tenants)`}},
		{"unknown tenant key", "tenants:\n  - id: a\n    zone: UTC\n    offices: [London]\n    systems: [salesforce]\n    colour: red\n",
			[]string{"s.yaml:6:5: tenants[0].colour: unknown field"}},
		{"bad values", "tenants:\n  - id: A!\n    zone: Mars/Olympus\n    offices: [Atlantis]\n    systems: [sap]\n    days: [funday]\n    hours: \"9-5\"\n    holidays: [tomorrow]\n    weight: many\n",
			[]string{
				`s.yaml:2:9: tenants[0].id: "A!": use lower-case`,
				`s.yaml:3:11: tenants[0].zone: unknown time zone "Mars/Olympus"`,
				`s.yaml:4:15: tenants[0].offices[0]: unknown city "Atlantis"`,
				`s.yaml:5:15: tenants[0].systems[0]: unknown system "sap"`,
				`s.yaml:6:12: tenants[0].days[0]: unknown day "funday"`,
				`s.yaml:7:12: tenants[0].hours: "9-5": want HH:MM-HH:MM`,
				`s.yaml:8:16: tenants[0].holidays[0]: "tomorrow" is not a date`,
				`s.yaml:9:13: tenants[0].weight: "many": want a whole number`,
			}},
		{"missing keys", "tenants:\n  - hours: \"08:00-18:00\"\n", []string{`s.yaml:2:5: tenants[0]: lacks "id"`, `lacks "zone"`, `lacks "offices"`, `lacks "systems"`}},
		{"duplicate ids", "tenants:\n  - {id: a, zone: UTC, offices: [London], systems: [hubspot]}\n  - {id: a, zone: UTC, offices: [London], systems: [hubspot]}\n",
			[]string{`s.yaml:3: tenant id "a" is already used on line 2`}},
		{"short day", "tenants:\n  - {id: a, zone: UTC, offices: [London], systems: [hubspot], hours: \"09:00-11:00\"}\n", []string{"at least four hours"}},
		{"wrong shapes", "tenants:\n  - {id: [a], zone: UTC, offices: London, systems: [hubspot]}\n", []string{"tenants[0].id: want a text value", "tenants[0].offices: want a list"}},
		{"given twice", "tenants:\n  - {id: a, id: b, zone: UTC, offices: [London], systems: [hubspot]}\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScenario("s.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "s.yaml") {
					t.Errorf("error line without the file: %q", line)
				}
			}
		})
	}
}
