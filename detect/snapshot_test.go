package detect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/detect/internal/traffic"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// packEngine loads the shipped rule pack.
func packEngine(t testing.TB, cfg *Config) *Engine {
	t.Helper()
	rs, err := Load("../rules")
	if err != nil {
		t.Fatalf("loading the pack: %v", err)
	}
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	e, err := NewEngine(rs, c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func genEvents(seed uint64, n, accounts int, attack float64) []*event.Event {
	g := traffic.New(traffic.Config{Seed: seed, Accounts: accounts, Tenants: 5, AttackRate: attack, OutOfOrder: 0.05})
	out := make([]*event.Event, n)
	for i := range out {
		out[i] = new(event.Event)
		g.Next(out[i])
	}
	return out
}

// fingerprint lists outputs in order, with everything that identifies them.
func outputsKey(out []Output) []string {
	var s []string
	for _, o := range out {
		switch o.Kind {
		case OutputAlert:
			a := o.Alert
			s = append(s, fmt.Sprintf("alert %s %s %v %v %s", a.ID, a.Rule.ID, a.EventIDs, a.Values, a.Summary))
		case OutputAction:
			s = append(s, fmt.Sprintf("action %s %s %s %s", o.Action.ID, o.Action.Type, o.Action.Target, o.Action.Mode))
		case OutputLate:
			s = append(s, fmt.Sprintf("late %s %v", o.Late.EventID, o.Late.Rules))
		}
	}
	return s
}

func TestSnapshotRestoreIsDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxKeysPerRule = 800 // make eviction part of what must be reproduced
	e := packEngine(t, &cfg)
	evs := genEvents(7, 40_000, 3_000, 0.003)

	whole := e.NewShard()
	var want []Output
	for _, x := range evs {
		want = whole.Process(x, want)
	}
	wantKeys := outputsKey(want)
	alerts := 0
	for _, o := range want {
		if o.Kind == OutputAlert {
			alerts++
		}
	}
	if alerts < 20 {
		t.Fatalf("only %d alerts: the stream does not exercise the rules", alerts)
	}
	var wantSnap bytes.Buffer
	if err := whole.Snapshot(&wantSnap); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for range 6 {
		cut := rng.IntN(len(evs))
		t.Run(fmt.Sprint("cut at ", cut), func(t *testing.T) {
			sh := e.NewShard()
			var got []Output
			for _, x := range evs[:cut] {
				got = sh.Process(x, got)
			}
			var snap bytes.Buffer
			if err := sh.Snapshot(&snap); err != nil {
				t.Fatal(err)
			}
			restored, err := RestoreShard(e, bytes.NewReader(snap.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range evs[cut:] {
				got = restored.Process(x, got)
			}
			gotKeys := outputsKey(got)
			if strings.Join(gotKeys, "\n") != strings.Join(wantKeys, "\n") {
				t.Fatalf("restored run differs: %d outputs, want %d; first difference: %s", len(gotKeys), len(wantKeys), firstDiff(gotKeys, wantKeys))
			}
			var end bytes.Buffer
			if err := restored.Snapshot(&end); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(end.Bytes(), wantSnap.Bytes()) {
				t.Errorf("final state differs from the uninterrupted shard's")
			}
		})
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("#%d\n got: %s\nwant: %s", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

func TestSnapshotRefusals(t *testing.T) {
	e := packEngine(t, nil)
	sh := e.NewShard()
	for _, x := range genEvents(3, 2000, 500, 0.01) {
		sh.Process(x, nil)
	}
	var snap bytes.Buffer
	if err := sh.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	b := snap.Bytes()

	cfg := DefaultConfig()
	cfg.Lateness = 2 * time.Minute
	other := packEngine(t, &cfg)
	if _, err := RestoreShard(other, bytes.NewReader(b)); !errors.Is(err, ErrSnapshotIncompatible) {
		t.Errorf("other configuration: %v", err)
	}
	rs := ruleSet(t, map[string]string{"r.yaml": ruleHead + "filter: event.category == \"export\"\n"})
	small, _ := NewEngine(rs, DefaultConfig())
	_, err := RestoreShard(small, bytes.NewReader(b))
	if !errors.Is(err, ErrSnapshotIncompatible) || !strings.Contains(err.Error(), "rule auth.impossible_travel is gone") || !strings.Contains(err.Error(), "rule r is new") {
		t.Errorf("other rules: %v", err)
	}
	for _, n := range []int{0, 5, len(b) / 2, len(b) - 1} {
		if _, err := RestoreShard(e, bytes.NewReader(b[:n])); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	bad := append([]byte(nil), b...)
	bad[len(bad)/2] ^= 0xff
	if _, err := RestoreShard(e, bytes.NewReader(bad)); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Errorf("flipped byte: %v", err)
	}
	// Migrating keeps what it can.
	restored, rep, err := RestoreShardMigrating(small, bytes.NewReader(b))
	if err != nil || restored == nil || fmt.Sprint(rep.Added) != "[r]" || len(rep.Removed) != len(e.rules) {
		t.Errorf("migrating: %v %+v", err, rep)
	}
}

func FuzzRestoreShard(f *testing.F) {
	e := packEngine(f, nil)
	sh := e.NewShard()
	for _, x := range genEvents(3, 500, 100, 0.01) {
		sh.Process(x, nil)
	}
	var snap bytes.Buffer
	_ = sh.Snapshot(&snap)
	// The fuzzer mutates the body; the checksum is recomputed so mutations
	// reach the decoder instead of stopping at the CRC.
	f.Add(snap.Bytes()[:snap.Len()-4])
	f.Fuzz(func(t *testing.T, body []byte) {
		b := binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.Checksum(body, crcTable))
		s, err := RestoreShard(e, bytes.NewReader(b))
		if err != nil {
			// The migrating path reads groups of rules whose state key
			// matches even when the fingerprint does not.
			s, _, err = RestoreShardMigrating(e, bytes.NewReader(b))
		}
		if err == nil {
			s.Process(ev("x", t0, "export", "export", records(10)), nil)
		}
	})
}
