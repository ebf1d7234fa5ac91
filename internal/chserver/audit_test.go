package chserver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-faster/city"
	"github.com/google/uuid"
)

// auditColumns is the shape of an audit event row: what the sink writes.
const auditColumns = `seq UInt64, id UUID, ts DateTime64(3, 'UTC'), tenant LowCardinality(String),
	action LowCardinality(String), actor String, ip Nullable(IPv6), attrs Map(LowCardinality(String), String),
	changes Array(Tuple(field String, old Nullable(String), new Nullable(String)))`

// auditRow is row seq, made from seq alone.
type auditRow struct {
	seq     uint64
	id      uuid.UUID
	ts      time.Time
	tenant  string
	action  string
	actor   string
	ip      *netip.Addr
	attrs   map[string]string
	changes []map[string]any
}

var auditActions = []string{"login", "export", "report.run", "permission.change", "record.delete"}
var auditBase = time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)

func makeAuditRow(seq uint64) auditRow {
	r := auditRow{
		seq:    seq,
		id:     uuid.NewSHA1(uuid.NameSpaceOID, fmt.Append(nil, seq)),
		ts:     auditBase.Add(time.Duration(seq) * time.Millisecond),
		tenant: fmt.Sprint("tenant-", seq%17),
		action: auditActions[seq%uint64(len(auditActions))],
		actor:  fmt.Sprint("user", seq%1000, "@example.com"),
		attrs:  map[string]string{"ua": "Mozilla/5.0", "session": fmt.Sprint(seq / 7)},
	}
	if seq%4 != 0 {
		ip := netip.AddrFrom4([4]byte{10, byte(seq >> 16), byte(seq >> 8), byte(seq)})
		ip = netip.AddrFrom16(ip.As16())
		r.ip = &ip
	}
	if seq%3 == 0 {
		old := fmt.Sprint("owner", seq%5)
		r.changes = []map[string]any{{"field": "OwnerId", "old": &old, "new": ptr(fmt.Sprint("owner", seq%9))}, {"field": "Stage", "old": (*string)(nil), "new": ptr("Closed")}}
	} else {
		r.changes = []map[string]any{}
	}
	return r
}

// auditSums are per-column checksums, computed the same way in Go and SQL.
type auditSums struct {
	count, seq, id, ts, tenant, action, actor, ips, attrs, changes uint64
}

// auditSumsSQL computes auditSums over a table.
const auditSumsSQL = `SELECT count(), sum(seq), sum(cityHash64(toString(id))), sum(toUInt64(toUnixTimestamp64Milli(ts))),
	sum(cityHash64(tenant)), sum(cityHash64(action)), sum(cityHash64(actor)), sum(cityHash64(ifNull(toString(ip), '-'))),
	sum(cityHash64(arrayStringConcat(arraySort(arrayMap((k, v) -> concat(k, '=', v), mapKeys(attrs), mapValues(attrs))), ','))),
	sum(cityHash64(arrayStringConcat(arrayMap(c -> concat(c.1, ':', ifNull(c.2, '-'), ':', ifNull(c.3, '-')), changes), ';')))
	FROM `

func (s *auditSums) add(r auditRow) {
	h := func(v string) uint64 { return city.CH64([]byte(v)) }
	s.count++
	s.seq += r.seq
	s.id += h(r.id.String())
	s.ts += uint64(r.ts.UnixMilli())
	s.tenant += h(r.tenant)
	s.action += h(r.action)
	s.actor += h(r.actor)
	if r.ip == nil {
		s.ips += h("-")
	} else {
		s.ips += h(r.ip.String())
	}
	var kv []string
	for k, v := range r.attrs {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	s.attrs += h(strings.Join(kv, ","))
	var ch []string
	for _, c := range r.changes {
		or := func(p any) string {
			if s := p.(*string); s != nil {
				return *s
			}
			return "-"
		}
		ch = append(ch, c["field"].(string)+":"+or(c["old"])+":"+or(c["new"]))
	}
	s.changes += h(strings.Join(ch, ";"))
}

func queryAuditSums(t testing.TB, conn driver.Conn, table string) auditSums {
	t.Helper()
	var s auditSums
	err := conn.QueryRow(context.Background(), auditSumsSQL+table).Scan(&s.count, &s.seq, &s.id, &s.ts, &s.tenant, &s.action, &s.actor, &s.ips, &s.attrs, &s.changes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// appendAudit appends rows [from, to) to a batch.
func appendAudit(t testing.TB, b driver.Batch, from, to uint64, sums *auditSums) {
	t.Helper()
	for seq := from; seq < to; seq++ {
		r := makeAuditRow(seq)
		if err := b.Append(r.seq, r.id, r.ts, r.tenant, r.action, r.actor, r.ip, r.attrs, r.changes); err != nil {
			t.Fatal(err)
		}
		if sums != nil {
			sums.add(r)
		}
	}
}

// sendAudit inserts rows [from, to) in one batch.
func sendAudit(t testing.TB, ctx context.Context, conn driver.Conn, table string, from, to uint64, sums *auditSums) error {
	t.Helper()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
	if err != nil {
		return err
	}
	appendAudit(t, b, from, to, sums)
	return b.Send()
}

func TestAuditRowsRoundTrip(t *testing.T) {
	conn := openCH(t, clickhouse.CompressionLZ4)
	table := uniqueTable(t, conn, auditColumns)
	var sums auditSums
	if err := sendAudit(t, t.Context(), conn, table, 0, 3000, &sums); err != nil {
		t.Fatal(err)
	}
	if got := queryAuditSums(t, conn, table); got != sums {
		t.Fatalf("checksums\n got %+v\nwant %+v", got, sums)
	}
}
