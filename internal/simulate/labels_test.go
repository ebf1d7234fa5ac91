package simulate

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

const goodLabel = `{"episode":"acme-x-00","kind":"impossible_travel","class":"attack","rule":"auth.impossible_travel","tenant":"acme","person":"p-1","start":"2026-11-02T10:00:00.000Z","end":"2026-11-02T11:00:00.000Z","events":["e1","e2"]}`

func TestLabelRoundTrip(t *testing.T) {
	l := &Label{Episode: "acme-x-00", Kind: "travel", Class: ClassBenign, Rule: "auth.impossible_travel", Tenant: "acme", Person: "p-1",
		Accounts: []string{"005A"}, Login: "a@acme.example", Object: "003X",
		Start: time.Date(2026, 11, 2, 10, 0, 0, 123e6, time.FixedZone("", 3600)), End: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC),
		Events: []string{"e1"}, Note: "a trip"}
	var b bytes.Buffer
	if err := WriteLabel(&b, l); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"start":"2026-11-02T09:00:00.123Z"`) {
		t.Errorf("start not in UTC with milliseconds: %s", b.String())
	}
	got, err := ReadLabels(&b, "l")
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if !got[0].Start.Equal(l.Start) || got[0].Object != "003X" || strings.Join(got[0].Subjects(), ",") != "p-1,a@acme.example,003X,005A" {
		t.Errorf("read back %+v", got[0])
	}
}

func TestReadLabelsErrors(t *testing.T) {
	long := `{"episode":"` + strings.Repeat("x", maxLabelLine) + `"}`
	cases := []struct {
		name, src string
		want      []string
	}{
		{"not json", goodLabel + "\n{nope\n", []string{"l:2: invalid JSON at byte 2"}},
		{"unknown field", strings.Replace(goodLabel, `"kind"`, `"knd"`, 1), []string{`l:1: invalid label: json: unknown field "knd"`}},
		{"wrong type", strings.Replace(goodLabel, `["e1","e2"]`, `"e1"`, 1), []string{"l:1: events: want a list, got string"}},
		{"bad time", strings.Replace(goodLabel, `2026-11-02T10:00:00.000Z`, `yesterday`, 1), []string{"l:1: invalid label: parsing time"}},
		{"end before start", strings.Replace(goodLabel, `11:00:00.000Z`, `09:00:00.000Z`, 1), []string{`l:1: episode "acme-x-00": end 2026-11-02T09:00:00.000Z is before start`}},
		{"missing fields", `{"episode":"e","class":"attack","events":[]}`, []string{"kind: required", "rule: required for an attack", "tenant: required", "start, end: required", "events: at least one"}},
		{"bad class and id", strings.NewReplacer(`"attack"`, `"maybe"`, `acme-x-00`, `a b`).Replace(goodLabel), []string{"episode: \"a b\" is not an id", `class: "maybe", want attack or benign`}},
		{"duplicate", goodLabel + "\n\n" + goodLabel, []string{`l:3: episode "acme-x-00" is already on line 1`}},
		{"two values", goodLabel + " {}", []string{"l:1: more than one JSON value"}},
		{"too long", goodLabel + "\n" + long + "\n" + goodLabel, []string{"l:2: line longer than"}},
		{"many errors", strings.Repeat("x\n", 30), []string{"l:20: invalid JSON", "too many errors; stopped at line 20"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLabels(strings.NewReader(tc.src), "l")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestReadLabelsSkipsBlankLinesAndSorts(t *testing.T) {
	early := strings.NewReplacer(`acme-x-00`, `acme-x-01`, `2026-11-02T10`, `2026-11-01T10`).Replace(goodLabel)
	got, err := ReadLabels(strings.NewReader("\n"+goodLabel+"\r\n\n"+early), "l")
	if err != nil || len(got) != 2 || got[0].Episode != "acme-x-01" {
		t.Fatal(got, err)
	}
}
