// Package testenv starts the embedded engines for tests: an in-process
// Kafka-protocol broker and the embedded ClickHouse server, each on a
// loopback port, or the real services named in the environment
// (TRAILWATCH_TEST_KAFKA_BROKERS or TRAILWATCH_E2E_KAFKA_BROKERS;
// CLICKHOUSE_ADDR or TRAILWATCH_E2E_CLICKHOUSE_URL) under `make e2e`.
package testenv
