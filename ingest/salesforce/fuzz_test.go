package salesforce

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/ingest/record/recordtest"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func normalizersOf(kind record.Kind) []record.Normalizer {
	var out []record.Normalizer
	for _, n := range Normalizers() {
		if n.Kind() == kind {
			out = append(out, n)
		}
	}
	return out
}

// checkAccepted is the fuzz property: an accepted record gives an event the
// contract accepts, and normalising it again gives the same event (a re-sent
// record keeps its id).
func checkAccepted(t *testing.T, n record.Normalizer, rec record.Record) {
	ev, err := n.Normalize(rec, recordtest.Meta)
	if err != nil {
		return
	}
	if err := event.Validate(&ev, recordtest.NoClock); err != nil {
		t.Fatalf("%s accepted a record but its event breaks the contract: %v", n.Format(), err)
	}
	again, err := n.Normalize(rec, recordtest.Meta)
	if err != nil || !reflect.DeepEqual(ev, again) {
		t.Fatalf("%s is not deterministic: %v", n.Format(), err)
	}
}

// FuzzJSONNormalizers drives every Salesforce JSON normaliser (the first
// byte picks which) with arbitrary records, seeded with the testdata.
func FuzzJSONNormalizers(f *testing.F) {
	ns := normalizersOf(record.JSON)
	files, _ := filepath.Glob("testdata/*.ndjson")
	for _, file := range files {
		for _, line := range recordtest.Lines(f, file) {
			for i := range ns {
				f.Add(uint8(i), line)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		checkAccepted(t, ns[int(which)%len(ns)], record.Record{Data: data})
	})
}

// FuzzCSVNormalizers drives the Event Log File normalisers through the CSV
// reader: arbitrary files, every row that reads normalised.
func FuzzCSVNormalizers(f *testing.F) {
	ns := normalizersOf(record.CSV)
	files, _ := filepath.Glob("testdata/*.csv")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for i := range ns {
			f.Add(uint8(i), data)
		}
	}
	f.Add(uint8(0), []byte("TIMESTAMP,USER_ID\n\"20130715233322.670\",005B0000001vURv\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		n := ns[int(which)%len(ns)]
		cr, err := record.NewCSVReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for rows := 0; rows < 1000; rows++ {
			row, err := cr.Next()
			if err != nil {
				if strings.Contains(err.Error(), "EOF") {
					return
				}
				continue
			}
			checkAccepted(t, n, record.Record{Row: row, Line: row.Line})
		}
	})
}
