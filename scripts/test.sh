#!/usr/bin/env bash
# The test suite as CI runs it, on the embedded Kafka and ClickHouse
# engines, every test in shuffled order:
#  1. every package with the race detector;
#  2. cmd/trailwatch, the end-to-end tests of whole roles and processes,
#     with the race detector on everything but its three volume tests
#     (100,000 to 300,000 events through ingest, sink and `trailwatch run`:
#     under the race detector they alone take over ten minutes on two
#     cores), then in full without it. The code those volume tests drive is
#     raced in its own packages' tests and in the smaller end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
pkgs=$(go list ./... | grep -v '/cmd/trailwatch$')
go test -race -shuffle=on -timeout 20m $pkgs
go test -race -short -shuffle=on -timeout 20m ./cmd/trailwatch
go test -shuffle=on -timeout 20m ./cmd/trailwatch
