#!/usr/bin/env bash
# The test suite as CI runs it: every package with the race detector and
# shuffled order, on the embedded Kafka and ClickHouse engines.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
go test -race -shuffle=on -timeout 20m ./...
