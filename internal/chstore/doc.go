// Package chstore is Trailwatch's one ClickHouse client: it opens a
// clickhouse-go/v2 connection from a URL (the embedded server by default,
// any ClickHouse server in production), applies the ordered migrations in
// schemas/clickhouse, and offers batches and queries to the stages.
package chstore
