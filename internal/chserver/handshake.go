package chserver

import (
	"encoding/binary"
	"strings"
)

// helloQuery is what clickhouse-go (and Grafana's data source, which uses
// it) sends first on every HTTP connection.
const helloQuery = "SELECT displayName(), version(), revision(), timezone()"

func isHello(st *Statement) bool {
	return strings.Join(strings.Fields(st.Text), " ") == helloQuery
}

// helloBlock answers the hello query as clickhouse-go decodes it: a Native
// block with the header of protocol revision 54460 (block info, then a
// custom-serialization byte per column), which is how the client reads
// this one reply. It reports revision 0, so from then on the client reads
// the engine's plain Native output (no block info, no serialization byte)
// as it is. See shared/DESIGN.md, facts.
func helloBlock(displayName, version, timezone string) []byte {
	var b []byte
	uv := func(v uint64) { b = binary.AppendUvarint(b, v) }
	str := func(s string) { uv(uint64(len(s))); b = append(b, s...) }
	// Block info: field 1 is_overflows=false, field 2 bucket_num=-1, end.
	uv(1)
	b = append(b, 0)
	uv(2)
	b = binary.LittleEndian.AppendUint32(b, 0xFFFFFFFF)
	uv(0)
	uv(4) // columns
	uv(1) // rows
	col := func(name, typ string) {
		str(name)
		str(typ)
		b = append(b, 0) // no custom serialization
	}
	col("displayName()", "String")
	str(displayName)
	col("version()", "String")
	str(version)
	col("revision()", "UInt32")
	b = binary.LittleEndian.AppendUint32(b, 0)
	col("timezone()", "String")
	str(timezone)
	return b
}
