#!/usr/bin/env bash
# Benchmarks the canonical event decoder, encoder and Validate against the
# encoding/json baselines (v1, and v2 under GOEXPERIMENT=jsonv2), interleaving
# the runs so that a busy machine slows every contender alike, and summarises
# them with benchstat. Usage: scripts/bench-event.sh [rounds] (default 20).
set -euo pipefail
cd "$(dirname "$0")/../schemas/event"
rounds=${1:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/event.test" .
GOEXPERIMENT=jsonv2 go test -c -o "$tmp/event_v2.test" .
for _ in $(seq "$rounds"); do
	"$tmp/event.test" -test.run '^$' -test.bench 'Decode|Encode|Validate' -test.benchtime=100000x
	"$tmp/event_v2.test" -test.run '^$' -test.bench 'DecodeStdlib|DecodeJSONv2' -test.benchtime=100000x |
		sed 's/^BenchmarkDecodeStdlib/BenchmarkDecodeStdlibOnV2/'
done >"$tmp/bench.txt"
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -filter '.unit:(sec/op OR B/s OR events/s OR allocs/op)' "$tmp/bench.txt"
