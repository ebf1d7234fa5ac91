// Package chserver serves the ClickHouse HTTP interface from the embedded
// engine (internal/chdb), so that every client (clickhouse-go, Grafana's
// ClickHouse data source, curl) reaches the embedded default exactly as it
// reaches a ClickHouse server.
//
// The engine runs one statement at a time, so requests wait in a bounded
// FIFO queue. Insert data is streamed to the engine through a named pipe
// (`INSERT … FROM INFILE`), never pasted into the query text. Users and
// roles (admin, writer, reader) come from configuration; a reader's
// statements run with the engine's own read-only mode and are checked with
// the engine's own parser.
package chserver
