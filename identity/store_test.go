package identity

import (
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func testStore(t *testing.T) *chstore.Store {
	t.Helper()
	return history.Migrated(t)
}

func TestStoreKeepsHistory(t *testing.T) {
	st := testStore(t)
	ctx := t.Context()
	if _, _, ok, err := Latest(ctx, st, "acme"); err != nil || ok {
		t.Fatalf("empty store: ok %v, %v", ok, err)
	}
	first := parseTestdata(t, "people.csv", "")
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	changes := Diff(nil, first)
	if err := Save(ctx, st, NewStored("acme", first, "people.csv", FormatCSV, at, changes), first); err != nil {
		t.Fatal(err)
	}
	second := mustParse(t, "person_id,department,accounts\np-kim,marketing,hubspot:77\n")
	if err := Save(ctx, st, NewStored("acme", second, "next.csv", FormatCSV, at.Add(time.Hour), Diff(first, second)), second); err != nil {
		t.Fatal(err)
	}
	// Another tenant's directory is separate.
	if err := Save(ctx, st, NewStored("other", first, "people.csv", FormatCSV, at.Add(2*time.Hour), nil), first); err != nil {
		t.Fatal(err)
	}
	got, meta, ok, err := Latest(ctx, st, "acme")
	if err != nil || !ok {
		t.Fatalf("latest: ok %v, %v", ok, err)
	}
	if got.Digest != second.Digest || meta.Digest != second.Digest || meta.People != 1 || !meta.ImportedAt.Equal(at.Add(time.Hour)) {
		t.Errorf("latest = %+v (digest %s, want %s)", meta, got.Digest, second.Digest)
	}
	other, _, _, err := Latest(ctx, st, "other")
	if err != nil || other.Digest != first.Digest {
		t.Fatalf("round trip of the full snapshot: %v (digest %s, want %s)", err, other.Digest, first.Digest)
	}
	for i := range first.People {
		if !slices.Equal(other.People[i].fields(), first.People[i].fields()) {
			t.Errorf("person %d: %q, stored %q", i, first.People[i].fields(), other.People[i].fields())
		}
	}
	// History: the first snapshot's people are still there, and the
	// latest view shows the newest only.
	var snapshots, people, latest uint64
	if err := st.Conn().QueryRow(ctx, `SELECT (SELECT count() FROM directory_snapshots WHERE tenant = 'acme'),
		(SELECT count() FROM directory_people FINAL WHERE tenant = 'acme'),
		(SELECT count() FROM directory_people_latest WHERE tenant = 'acme')`).Scan(&snapshots, &people, &latest); err != nil {
		t.Fatal(err)
	}
	if snapshots != 2 || people != 5 || latest != 1 {
		t.Errorf("snapshots %d, people rows %d, latest %d; want 2, 5, 1", snapshots, people, latest)
	}
}

// TestLatestWithinOneSecond: two imports a few hundred milliseconds apart
// (a script importing twice): the later is the latest, whichever digest
// sorts first, and its time keeps its milliseconds.
func TestLatestWithinOneSecond(t *testing.T) {
	st := testStore(t)
	ctx := t.Context()
	a := mustParse(t, "person_id,department,accounts\np-kim,sales,hubspot:77\n")
	b := mustParse(t, "person_id,department,accounts\np-kim,marketing,hubspot:77\n")
	at := time.Date(2026, 11, 1, 9, 0, 0, 100*int(time.Millisecond), time.UTC)
	// Save the one whose id sorts last first, so a tie on time would pick it.
	early, late := a, b
	if a.Digest < b.Digest {
		early, late = b, a
	}
	if err := Save(ctx, st, NewStored("acme", early, "early.csv", FormatCSV, at, nil), early); err != nil {
		t.Fatal(err)
	}
	if err := Save(ctx, st, NewStored("acme", late, "late.csv", FormatCSV, at.Add(500*time.Millisecond), nil), late); err != nil {
		t.Fatal(err)
	}
	_, meta, ok, err := Latest(ctx, st, "acme")
	if err != nil || !ok || meta.SourceFile != "late.csv" || !meta.ImportedAt.Equal(at.Add(500*time.Millisecond)) {
		t.Fatalf("latest = %+v, %v, %v; want late.csv imported at %s", meta, ok, err, at.Add(500*time.Millisecond))
	}
}
