package chserver

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// zoneQuery has a DateTime with a zone after columns of most layouts the
// walker knows, in several blocks.
const zoneQuery = `SELECT number AS u, [number, 2] AS a, map('k', toLowCardinality(toString(number))) AS m,
	CAST(if(number % 2 = 0, toString(number), NULL), 'Nullable(String)') AS n,
	CAST(if(number % 3 = 0, 'x', NULL), 'Variant(String, UInt64)') AS v, tuple(number, 'a') AS t,
	toLowCardinality(toNullable(toString(number % 2))) AS lc, toFixedString('ab', 2) AS f, toDecimal128(1.5, 3) AS d,
	[toIPv6('::1')] AS ips, toDateTime(number, 'Asia/Tokyo') AS z, toDateTime(number) AS plain
	FROM numbers(5) SETTINGS max_block_size = 2`

// nativeBlocks walks every block of a Native reply and returns each
// block's column types.
func nativeBlocks(t testing.TB, body []byte) [][]string {
	t.Helper()
	w := &walker{b: body}
	var blocks [][]string
	for w.pos < len(body) {
		ncols, err := w.uvarint()
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := w.uvarint()
		var types []string
		for range ncols {
			if _, err := w.str(); err != nil {
				t.Fatal(err)
			}
			typ, err := w.str()
			if err != nil {
				t.Fatal(err)
			}
			types = append(types, typ)
			if rows > 0 {
				ct := parseType(typ)
				if err := w.prefix(ct); err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
				if err := w.data(ct, rows); err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
			}
		}
		blocks = append(blocks, types)
	}
	return blocks
}

func TestZoneRestoredAfterEveryLayout(t *testing.T) {
	r := call(t, "POST", q("default_format", "Native"), strings.NewReader(zoneQuery), "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	blocks := nativeBlocks(t, []byte(r.body))
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want 3", len(blocks))
	}
	for i, types := range blocks {
		if types[10] != "DateTime('Asia/Tokyo')" || types[11] != "DateTime" {
			t.Errorf("block %d: types %v", i, types)
		}
	}
}

// TestZonePatcherChunking: however the engine's output is cut into
// chunks, the patched stream is the same.
func TestZonePatcherChunking(t *testing.T) {
	raw, _, err := testSrv.eng.Query(t.Context(), zoneQuery, "Native")
	if err != nil {
		t.Fatal(err)
	}
	cols, err := func() ([]column, error) {
		c, err := testSrv.eng.Acquire(t.Context())
		if err != nil {
			return nil, err
		}
		defer c.Release()
		return testSrv.describe(c, &request{}, zoneQuery, "")
	}()
	if err != nil {
		t.Fatal(err)
	}
	whole := newZonePatcher(cols)
	want := append(whole.push(raw), whole.flush()...)
	if whole.off || len(want) <= len(raw) {
		t.Fatalf("patcher gave up or changed nothing (off=%v, %d → %d bytes)", whole.off, len(raw), len(want))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := newZonePatcher(cols)
		var got []byte
		for rest := raw; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(40))
			got = append(got, p.push(rest[:n])...)
			rest = rest[n:]
		}
		got = append(got, p.flush()...)
		if string(got) != string(want) {
			t.Fatal("chunked patching differs from whole")
		}
	}
}

func FuzzParseType(f *testing.F) {
	for _, s := range []string{"Map(String, Array(Tuple(a Nullable(String), b LowCardinality(String))))", "DateTime('Europe/Berlin')",
		"Decimal(76, 20)", "Variant(String, UInt64)", "Tuple(`a b` String)", "Enum8('a,b' = 1, 'c)' = 2)", "FixedString(", ")("} {
		f.Add(s, []byte{1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0})
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		ct := parseType(typ)
		w := &walker{b: data}
		if w.prefix(ct) == nil {
			_ = w.data(ct, uint64(len(data)%7))
		}
	})
}

// TestTextCacheBounds: the caches keep at most textCacheSize entries and
// no entry over textCacheEntryBytes, whatever clients send.
func TestTextCacheBounds(t *testing.T) {
	var c textCache[string]
	c.put("small", "v", 1)
	if v, ok := c.get("small"); !ok || v != "v" {
		t.Fatalf("small entry: %q %v", v, ok)
	}
	big := strings.Repeat("x", textCacheEntryBytes)
	c.put(big, "v", 1)
	if _, ok := c.get(big); ok {
		t.Fatal("an entry over textCacheEntryBytes was kept")
	}
	for i := range textCacheSize + 10 {
		c.put(strconv.Itoa(i), "v", 1)
	}
	if n := len(c.m); n > textCacheSize {
		t.Fatalf("%d entries, limit %d", n, textCacheSize)
	}
}
