package chserver

import (
	"fmt"
	"math/big"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/chcol"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// typeCase is one column type: values appended to a batch, and what they
// must read back as (want defaults to in).
type typeCase struct {
	name string
	typ  string
	// dbType is the type as the server names it, when it normalises typ.
	dbType string
	in     []any
	want   []any
	// eq compares one value when reflect.DeepEqual is too strict.
	eq func(got, want any) bool
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func bigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

// timeEq compares instants and the zone's name, which clickhouse-go takes
// from the column type (or, without one, from the handshake).
func timeEq(got, want any) bool {
	g, w := got.(time.Time), want.(time.Time)
	return g.Equal(w) && g.Location().String() == w.Location().String()
}

func bigEq(got, want any) bool { return got.(*big.Int).Cmp(want.(*big.Int)) == 0 }

func decEq(got, want any) bool { return got.(decimal.Decimal).Equal(want.(decimal.Decimal)) }

func typeCases(t testing.TB) []typeCase {
	berlin := mustLoc(t, "Europe/Berlin")
	tokyo := mustLoc(t, "Asia/Tokyo")
	ny := mustLoc(t, "America/New_York")
	at := time.Date(2026, 3, 29, 1, 30, 15, 0, time.UTC) // an hour before Berlin's DST change
	at3 := time.Date(2026, 3, 29, 1, 30, 15, 123e6, time.UTC)
	at9 := time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC)
	day := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	return []typeCase{
		{name: "Int8", typ: "Int8", in: []any{int8(-128), int8(0), int8(127)}},
		{name: "Int16", typ: "Int16", in: []any{int16(-32768), int16(32767)}},
		{name: "Int32", typ: "Int32", in: []any{int32(-2147483648), int32(2147483647)}},
		{name: "Int64", typ: "Int64", in: []any{int64(-9223372036854775808), int64(9223372036854775807)}},
		{name: "Int128", typ: "Int128", in: []any{bigInt("-170141183460469231731687303715884105728"), bigInt("170141183460469231731687303715884105727")}},
		{name: "Int256", typ: "Int256", in: []any{bigInt("-57896044618658097711785492504343953926634992332820282019728792003956564819968"), bigInt("57896044618658097711785492504343953926634992332820282019728792003956564819967")}},
		{name: "UInt8", typ: "UInt8", in: []any{uint8(0), uint8(255)}},
		{name: "UInt16", typ: "UInt16", in: []any{uint16(0), uint16(65535)}},
		{name: "UInt32", typ: "UInt32", in: []any{uint32(0), uint32(4294967295)}},
		{name: "UInt64", typ: "UInt64", in: []any{uint64(0), uint64(18446744073709551615)}},
		{name: "UInt128", typ: "UInt128", in: []any{bigInt("0"), bigInt("340282366920938463463374607431768211455")}, eq: bigEq},
		{name: "UInt256", typ: "UInt256", in: []any{bigInt("0"), bigInt("115792089237316195423570985008687907853269984665640564039457584007913129639935")}, eq: bigEq},
		{name: "Float32", typ: "Float32", in: []any{float32(-1.5), float32(3.4028235e38), float32(1e-45)}},
		{name: "Float64", typ: "Float64", in: []any{-1.5, 1.7976931348623157e308, 5e-324}},
		{name: "Decimal32", typ: "Decimal32(3)", dbType: "Decimal(9, 3)", in: []any{decimal.RequireFromString("-999999.999"), decimal.RequireFromString("1.5")}, eq: decEq},
		{name: "Decimal64", typ: "Decimal64(6)", dbType: "Decimal(18, 6)", in: []any{decimal.RequireFromString("-999999999999.999999"), decimal.RequireFromString("0.000001")}, eq: decEq},
		{name: "Decimal128", typ: "Decimal128(10)", dbType: "Decimal(38, 10)", in: []any{decimal.RequireFromString("-9999999999999999999999999999.9999999999"), decimal.RequireFromString("3.1415926535")}, eq: decEq},
		{name: "Decimal256", typ: "Decimal256(20)", dbType: "Decimal(76, 20)", in: []any{decimal.RequireFromString("12345678901234567890123456789012345678901234567890.12345678901234567890"), decimal.RequireFromString("-0.00000000000000000001")}, eq: decEq},
		{name: "Bool", typ: "Bool", in: []any{true, false}},
		{name: "String", typ: "String", in: []any{"", "héllo, wörld", "tab\there\nnewline 'quote' \\ \x00 nul", strings.Repeat("x", 100000)}},
		{name: "FixedString", typ: "FixedString(4)", in: []any{"abcd", "a\x00\x00\x00"}},
		{name: "UUID", typ: "UUID", in: []any{uuid.MustParse("123e4567-e89b-12d3-a456-426614174000"), uuid.Nil}},
		{name: "Date", typ: "Date", in: []any{day, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2149, 6, 6, 0, 0, 0, 0, time.UTC)}, eq: timeEq},
		{name: "Date32", typ: "Date32", in: []any{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC)}, eq: timeEq},
		// Without a zone, DateTime reads back in the handshake's zone, UTC.
		{name: "DateTime", typ: "DateTime", in: []any{at, at.In(tokyo)}, want: []any{at, at}, eq: timeEq},
		{name: "DateTime Berlin", typ: "DateTime('Europe/Berlin')", in: []any{at, at.Add(time.Hour)}, want: []any{at.In(berlin), at.Add(time.Hour).In(berlin)}, eq: timeEq},
		{name: "DateTime UTC", typ: "DateTime('UTC')", in: []any{at.In(ny)}, want: []any{at}, eq: timeEq},
		{name: "DateTime64", typ: "DateTime64(3)", in: []any{at3}, eq: timeEq},
		{name: "DateTime64 Tokyo", typ: "DateTime64(3, 'Asia/Tokyo')", in: []any{at3}, want: []any{at3.In(tokyo)}, eq: timeEq},
		{name: "DateTime64 ns NY", typ: "DateTime64(9, 'America/New_York')", in: []any{at9}, want: []any{at9.In(ny)}, eq: timeEq},
		{name: "IPv4", typ: "IPv4", in: []any{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("255.255.255.255")}},
		{name: "IPv6", typ: "IPv6", in: []any{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:1.2.3.4")}},
		{name: "Enum8", typ: "Enum8('low' = -1, 'high' = 100)", in: []any{"low", "high"}},
		{name: "Enum16", typ: "Enum16('a' = -1000, 'b' = 30000)", in: []any{"a", "b"}},
		{name: "LowCardinality", typ: "LowCardinality(String)", in: []any{"login", "export", "login"}},
		{name: "LowCardinality Nullable", typ: "LowCardinality(Nullable(String))", in: []any{ptr("x"), (*string)(nil)}},
		{name: "Nullable Int64", typ: "Nullable(Int64)", in: []any{ptr(int64(7)), (*int64)(nil)}},
		{name: "Nullable DateTime64", typ: "Nullable(DateTime64(6, 'UTC'))", in: []any{ptr(at3), (*time.Time)(nil)}},
		{name: "Array", typ: "Array(String)", in: []any{[]string{"a", "b"}, []string{}}},
		{name: "Array Nullable", typ: "Array(Nullable(Int32))", in: []any{[]*int32{ptr(int32(1)), nil}}},
		{name: "Array Array", typ: "Array(Array(UInt8))", in: []any{[][]uint8{{1}, {}, {2, 3}}}},
		{name: "Map", typ: "Map(String, UInt64)", in: []any{map[string]uint64{"a": 1, "b": 2}, map[string]uint64{}}},
		{name: "Map LowCardinality", typ: "Map(LowCardinality(String), String)", in: []any{map[string]string{"ip": "1.2.3.4"}}},
		{name: "Tuple", typ: "Tuple(String, Int64)", in: []any{[]any{"a", int64(1)}}},
		{name: "Tuple named", typ: "Tuple(name String, n Int64)", in: []any{map[string]any{"name": "a", "n": int64(1)}}},
		{name: "Array Tuple", typ: "Array(Tuple(field String, old Nullable(String), new Nullable(String)))",
			in: []any{[]map[string]any{{"field": "owner", "old": ptr("a"), "new": (*string)(nil)}}}},
		{name: "Variant", typ: "Variant(String, UInt64, Array(String))", dbType: "Variant(Array(String), String, UInt64)",
			in:   []any{chcol.NewVariantWithType("text", "String"), chcol.NewVariantWithType(uint64(42), "UInt64"), chcol.NewVariantWithType([]string{"x"}, "Array(String)"), chcol.NewVariant(nil)},
			want: []any{chcol.NewVariantWithType("text", "String"), chcol.NewVariantWithType(uint64(42), "UInt64"), chcol.NewVariantWithType([]string{"x"}, "Array(String)"), chcol.NewVariant(nil)}},
		{name: "Dynamic", typ: "Dynamic",
			in:   []any{chcol.NewDynamicWithType("text", "String"), chcol.NewDynamicWithType(int64(-5), "Int64")},
			want: []any{chcol.NewDynamicWithType("text", "String"), chcol.NewDynamicWithType(int64(-5), "Int64")}},
		{name: "JSON", typ: "JSON", in: []any{jsonValue(map[string]any{"a.b": int64(1), "c": "x"}), jsonValue(map[string]any{"a.b": int64(2), "c": "y"})},
			eq: func(got, want any) bool {
				g, _ := got.(*chcol.JSON).MarshalJSON()
				w, _ := want.(*chcol.JSON).MarshalJSON()
				return string(g) == string(w)
			}},
	}
}

func jsonValue(paths map[string]any) *chcol.JSON {
	j := chcol.NewJSON()
	for p, v := range paths {
		j.SetValueAtPath(p, v)
	}
	return j
}

func ptr[T any](v T) *T { return &v }

// TestTypesRoundTrip inserts every column type with a batch and reads it
// back, with and without compression.
func TestTypesRoundTrip(t *testing.T) {
	for _, comp := range []struct {
		name string
		m    clickhouse.CompressionMethod
	}{{"none", clickhouse.CompressionNone}, {"lz4", clickhouse.CompressionLZ4}} {
		t.Run(comp.name, func(t *testing.T) {
			conn := openCH(t, comp.m)
			ctx := t.Context()
			for i, tc := range typeCases(t) {
				t.Run(tc.name, func(t *testing.T) {
					table := fmt.Sprintf("types_%s_%d", comp.name, i)
					if err := conn.Exec(ctx, "CREATE TABLE "+table+" (i UInt32, v "+tc.typ+") ENGINE = MergeTree ORDER BY i"); err != nil {
						t.Fatal(err)
					}
					defer conn.Exec(ctx, "DROP TABLE "+table)
					b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
					if err != nil {
						t.Fatal(err)
					}
					for j, v := range tc.in {
						if err := b.Append(uint32(j), v); err != nil {
							t.Fatalf("append %d: %v", j, err)
						}
					}
					if err := b.Send(); err != nil {
						t.Fatalf("send: %v", err)
					}
					want := tc.want
					if want == nil {
						want = tc.in
					}
					rows, err := conn.Query(ctx, "SELECT v FROM "+table+" ORDER BY i")
					if err != nil {
						t.Fatal(err)
					}
					defer rows.Close()
					wantType := tc.typ
					if tc.dbType != "" {
						wantType = tc.dbType
					}
					if ct := rows.ColumnTypes(); len(ct) != 1 || ct[0].DatabaseTypeName() != wantType {
						t.Errorf("column types %v, want %s", ct, wantType)
					}
					j := 0
					for rows.Next() {
						dest := reflect.New(reflect.TypeOf(want[j]))
						if err := rows.Scan(dest.Interface()); err != nil {
							t.Fatalf("scan %d: %v", j, err)
						}
						got := dest.Elem().Interface()
						ok := false
						if tc.eq != nil {
							ok = tc.eq(got, want[j])
						} else {
							ok = reflect.DeepEqual(got, want[j])
						}
						if !ok {
							t.Errorf("row %d: got %#v, want %#v", j, got, want[j])
						}
						j++
					}
					if err := rows.Err(); err != nil {
						t.Fatal(err)
					}
					if j != len(want) {
						t.Fatalf("%d rows, want %d", j, len(want))
					}
				})
			}
		})
	}
}
