// Package clickhouse embeds Trailwatch's ClickHouse migrations: ordered SQL
// files (NNNN_name.sql) that `trailwatch migrate` and every role apply on
// start through internal/chstore. They run unchanged on the embedded
// engine and on a ClickHouse server.
package clickhouse

import "embed"

// Migrations holds the SQL files.
//
//go:embed *.sql
var Migrations embed.FS
