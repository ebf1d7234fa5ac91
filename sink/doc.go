// Package sink stores events, alerts and actions from Kafka in ClickHouse,
// committing Kafka offsets only after ClickHouse has acknowledged the rows.
package sink
