#!/usr/bin/env bash
# make run: the whole pipeline on the embedded Kafka and ClickHouse, fed by
# the simulator (ordinary CRM work with an attack of every kind in the first
# minutes). Alerts print as they are stored; Ctrl-C stops it cleanly.
# Data lives in ./data (remove it to start afresh); extra arguments go to
# trailwatch, e.g. scripts/run-demo.sh --config my.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/trailwatch run --demo "$@"
