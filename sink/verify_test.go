package sink

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/sink/auditrow"
	"github.com/trailwatch/trailwatch/sink/integrity"
)

// storeChains hands the sink 60 events of acme and 20 of globex over two
// partitions at even offsets, checkpointing after the first 40, so acme
// has signed segments and an unsigned tail.
func storeChains(t *testing.T, e *env, s *Sink) {
	t.Helper()
	tp := e.topics()
	var msgs []kafka.Message
	for i := range 80 {
		tenant := "acme"
		if i%4 == 3 {
			tenant = "globex"
		}
		ev := testEvent(i, tenant, fmt.Sprintf("005P%d", i%5))
		msgs = append(msgs, eventMsg(t, tp.Activity, i%2, int64(2*i), ev))
	}
	for _, part := range [][]kafka.Message{msgs[:40], msgs[40:70]} {
		if err := s.Handle(t.Context(), part); err != nil {
			t.Fatal(err)
		}
		if err := s.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Handle(t.Context(), msgs[70:]); err != nil { // the tail: not checkpointed
		t.Fatal(err)
	}
}

func verifyAcme(t *testing.T, e *env) integrity.Report {
	t.Helper()
	keys := map[string]ed25519.PublicKey{e.signer.KeyID(): e.signer.Public()}
	rep, err := integrity.Verify(t.Context(), e.st, "acme", baseTime.Add(-time.Hour), baseTime.Add(time.Hour), integrity.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (e *env) exec(t *testing.T, q string) {
	t.Helper()
	if err := e.st.Exec(t.Context(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) offsetOf(t *testing.T, id string) (int32, int64) {
	t.Helper()
	var p int32
	var off int64
	if err := e.st.Conn().QueryRow(t.Context(), "SELECT kafka_partition, kafka_offset FROM audit_events WHERE id = '"+id+"'").Scan(&p, &off); err != nil {
		t.Fatal(err)
	}
	return p, off
}

// TestVerifyFindsTampering stores chained events, then changes a row with
// ALTER UPDATE, deletes one, and inserts one, checking after each that
// verify reports exactly that row and nothing else.
func TestVerifyFindsTampering(t *testing.T) {
	e := newEnv(t)
	s := e.newSink(t, Deps{})
	storeChains(t, e, s)

	rep := verifyAcme(t, e)
	if len(rep.Problems) != 0 {
		t.Fatalf("untouched data reported: %v", rep.Problems)
	}
	if rep.Rows+rep.Unsigned != 60 || rep.Unsigned == 0 || rep.Checkpoints != 4 {
		t.Fatalf("verified %d rows and %d unsigned in %d segments, want 60 rows in all, an unsigned tail, 4 segments", rep.Rows, rep.Unsigned, rep.Checkpoints)
	}

	want := func(problems ...string) {
		t.Helper()
		rep := verifyAcme(t, e)
		var got []string
		for _, p := range rep.Problems {
			got = append(got, fmt.Sprintf("%s %d/%d %s", p.Kind, p.Partition, p.Offset, p.ID))
		}
		if strings.Join(got, "; ") != strings.Join(problems, "; ") {
			t.Fatalf("problems:\n got %v\nwant %v\n(%v)", got, problems, rep.Problems)
		}
	}
	sync := " SETTINGS mutations_sync = 2"

	// Changed: the login name of one event, as an intruder hiding a trace.
	p, off := e.offsetOf(t, "acme-ev-10")
	e.exec(t, "ALTER TABLE audit_events UPDATE user_name = 'someone-else' WHERE id = 'acme-ev-10'"+sync)
	changed := fmt.Sprintf("changed %d/%d acme-ev-10", p, off)
	want(changed)

	// Deleted: a whole event.
	dp, doff := e.offsetOf(t, "acme-ev-21")
	e.exec(t, "ALTER TABLE audit_events DELETE WHERE id = 'acme-ev-21'"+sync)
	deleted := fmt.Sprintf("deleted %d/%d ", dp, doff)
	want(changed, deleted)

	// Inserted: a plausible row at a free offset inside a signed range,
	// with a correct fingerprint and a link to a real row.
	ev := testEvent(24, "acme", "005P1")
	ev.ID = "acme-forged"
	var r auditrow.Row
	auditrow.FromEvent(&r, &ev, 0, 33, baseTime.Add(time.Hour))
	var h auditrow.Hasher
	r.RowFP, r.ChainGap = auditrow.Fingerprint(h.Hash(&r)), 1
	var cols auditrow.Columns
	cols.Append(&r)
	b, err := e.st.PrepareBatch(t.Context(), auditrow.Insert)
	if err != nil {
		t.Fatal(err)
	}
	if err := cols.Send(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	inserted := "inserted 0/33 acme-forged"
	// Problems are sorted by partition, then offset.
	all := []string{changed, deleted, inserted}
	sortProblems(all)
	want(all...)

	// A checkpoint altered to fit: its signature no longer verifies.
	e.exec(t, "ALTER TABLE integrity_checkpoints UPDATE rows = rows - 1 WHERE tenant = 'acme' AND kafka_partition = 1 AND prev_offset = -1"+sync)
	rep = verifyAcme(t, e)
	found := false
	for _, p := range rep.Problems {
		found = found || p.Kind == integrity.BadCheckpt && p.Partition == 1 && strings.Contains(p.Detail, "signature does not match")
	}
	if !found {
		t.Fatalf("an altered checkpoint was not reported: %v", rep.Problems)
	}
}

func sortProblems(s []string) {
	key := func(x string) (int, int) {
		var kind string
		var p, o int
		fmt.Sscanf(x, "%s %d/%d", &kind, &p, &o)
		return p, o
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0; j-- {
			pj, oj := key(s[j])
			pi, oi := key(s[j-1])
			if pj < pi || pj == pi && oj < oi {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
	}
}
