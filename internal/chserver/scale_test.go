package chserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TestMillionRowBatch: one batch of 1,000,000 audit-event rows arrives
// whole: the count and every column's checksum match what was sent.
func TestMillionRowBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 rows: skipped with -short")
	}
	conn := openCH(t, clickhouse.CompressionLZ4)
	table := uniqueTable(t, conn, auditColumns)
	var sums auditSums
	if err := sendAudit(t, t.Context(), conn, table, 0, 1_000_000, &sums); err != nil {
		t.Fatal(err)
	}
	if got := queryAuditSums(t, conn, table); got != sums {
		t.Fatalf("checksums\n got %+v\nwant %+v", got, sums)
	}
}

// rssBytes is this process's resident set size (Linux).
func rssBytes(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: cannot measure memory here")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS line")
	return 0
}

// TestTenMillionRowsStream: a 10,000,000-row result streams through the
// server (which is this process) with its memory growing by less than
// 200 MB: the result is never held whole.
func TestTenMillionRowsStream(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000,000 rows: skipped with -short")
	}
	const rows = 10_000_000
	debug.FreeOSMemory()
	base := rssBytes(t)
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if r := rssBytes(t); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	// A client reads the TSV reply as it arrives and counts rows; it keeps
	// nothing, so what grows is the server's.
	sql := fmt.Sprintf("SELECT number, toString(number), toDateTime64(number, 3, 'UTC') FROM numbers(%d)", rows)
	resp, err := rawClient.Post(testURL+"/?max_execution_time=600", "", strings.NewReader(sql))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	var n, size int64
	for {
		k, err := resp.Body.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		size += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	resp.Body.Close()
	close(stop)
	wg.Wait()
	growth := peak.Load() - base
	t.Logf("%d rows, %d MB streamed; RSS %d MB before, peak growth %d MB", n, size>>20, base>>20, growth>>20)
	if resp.StatusCode != 200 || n != rows {
		t.Fatalf("status %d, %d rows", resp.StatusCode, n)
	}
	if growth >= 200<<20 {
		t.Fatalf("memory grew by %d MB streaming %d MB (limit 200 MB)", growth>>20, size>>20)
	}
}

// mixedLoad runs clients inserting and querying against the server for d
// and checks that every request was answered or refused clearly and that
// every acknowledged row is stored exactly once.
func mixedLoad(t testing.TB, clients int, d time.Duration) {
	conn := openCH(t, clickhouse.CompressionLZ4)
	table := uniqueTable(t, conn, auditColumns)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		next                     atomic.Uint64 // next seq to hand out
		mu                       sync.Mutex
		acked                    auditSums
		inserts, queries, refuse atomic.Int64
		failures                 []error
	)
	fail := func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}
	// A clear refusal is an exception with a code, such as a full queue.
	clear := func(err error) bool {
		var ex *clickhouse.Exception
		return errors.As(err, &ex) && ex.Code != 0 && ex.Message != ""
	}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			cc := openCH(t, []clickhouse.CompressionMethod{clickhouse.CompressionLZ4, clickhouse.CompressionNone, clickhouse.CompressionZSTD, clickhouse.CompressionGZIP}[c%4])
			for ctx.Err() == nil {
				if c%2 == 0 {
					n := uint64(200 + c*50)
					from := next.Add(n) - n
					var sums auditSums
					err := sendAudit(t, context.Background(), cc, table, from, from+n, &sums)
					switch {
					case err == nil:
						inserts.Add(1)
						mu.Lock()
						acked.count += sums.count
						acked.seq += sums.seq
						acked.id += sums.id
						mu.Unlock()
					case clear(err):
						refuse.Add(1)
					default:
						fail(fmt.Errorf("insert: %w", err))
					}
					continue
				}
				var err error
				switch c % 3 {
				case 0:
					var n uint64
					err = cc.QueryRow(context.Background(), "SELECT count() FROM "+table).Scan(&n)
				case 1:
					var actor string
					err = cc.QueryRow(context.Background(), "SELECT any(actor) FROM "+table+" WHERE seq = {s:UInt64}", clickhouse.Named("s", fmt.Sprint(c))).Scan(&actor)
				default:
					rows, qerr := cc.Query(context.Background(), "SELECT tenant, count(), max(ts) FROM "+table+" GROUP BY tenant ORDER BY tenant")
					if err = qerr; err == nil {
						for rows.Next() {
						}
						err = rows.Err()
						rows.Close()
					}
				}
				switch {
				case err == nil:
					queries.Add(1)
				case clear(err):
					refuse.Add(1)
				default:
					fail(fmt.Errorf("query: %w", err))
				}
			}
		})
	}
	wg.Wait()
	for _, err := range failures {
		t.Errorf("unclear failure: %v", err)
	}
	var got auditSums
	err := conn.QueryRow(context.Background(), "SELECT count(), sum(seq), sum(cityHash64(toString(id))), uniqExact(seq) FROM "+table).Scan(&got.count, &got.seq, &got.id, &got.ts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d clients, %v: %d inserts (%d rows), %d queries, %d refused", clients, d, inserts.Load(), acked.count, queries.Load(), refuse.Load())
	if got.count != acked.count || got.seq != acked.seq || got.id != acked.id || got.ts != got.count {
		t.Fatalf("stored %d rows (%d distinct), acknowledged %d; checksums %d/%d vs %d/%d", got.count, got.ts, acked.count, got.seq, got.id, acked.seq, acked.id)
	}
	if inserts.Load() == 0 || queries.Load() == 0 {
		t.Fatal("the load did not run")
	}
}

// TestMixedClients is 16 clients for a few seconds. The 60 s run
// is TRAILWATCH_CH_SOAK=60s go test -run TestMixedClients ./internal/chserver/.
func TestMixedClients(t *testing.T) {
	d := 5 * time.Second
	if testing.Short() {
		d = time.Second
	}
	if v := os.Getenv("TRAILWATCH_CH_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("TRAILWATCH_CH_SOAK=%q: %v", v, err)
		}
	}
	mixedLoad(t, 16, d)
}
