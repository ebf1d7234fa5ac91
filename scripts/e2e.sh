#!/usr/bin/env bash
# make e2e: the integration tests -- every package whose tests start Kafka
# or ClickHouse through internal/testenv -- against external services
# instead of the embedded engines:
#
#   TRAILWATCH_E2E_KAFKA_BROKERS   host:port[,host:port…] of a Kafka cluster
#                                  (plaintext; each test creates and deletes
#                                  topics named for it)
#   TRAILWATCH_E2E_CLICKHOUSE_URL  http://user:password@host:port of a
#                                  ClickHouse server's HTTP interface, as a
#                                  user who may create and drop databases
#                                  (each test gets its own)
#
# Against the docker compose stack (docker-compose.yml publishes Kafka on
# localhost:29092 and ClickHouse on localhost:8123):
#
#   scripts/compose-secrets.sh && docker compose up -d kafka clickhouse
#   export TRAILWATCH_E2E_KAFKA_BROKERS=localhost:29092
#   export TRAILWATCH_E2E_CLICKHOUSE_URL="http://trailwatch_admin:$(cat deploy/secrets/clickhouse-admin-password)@localhost:8123"
#   make e2e
#
# Extra arguments go to go test (e.g. -run TestSink). Tests that inject
# faults into the embedded broker skip themselves on a real cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[[ -n "${TRAILWATCH_E2E_KAFKA_BROKERS:-}" ]] || missing+=(TRAILWATCH_E2E_KAFKA_BROKERS)
[[ -n "${TRAILWATCH_E2E_CLICKHOUSE_URL:-}" ]] || missing+=(TRAILWATCH_E2E_CLICKHOUSE_URL)
if ((${#missing[@]} > 0)); then
	cat >&2 <<MSG
make e2e: not run: ${missing[*]} not set.

The end-to-end run points the integration tests at a real Kafka and a real
ClickHouse, and needs both:

  TRAILWATCH_E2E_KAFKA_BROKERS=localhost:29092
  TRAILWATCH_E2E_CLICKHOUSE_URL=http://trailwatch_admin:<password>@localhost:8123

docker compose (docker-compose.yml) provides both; see the top of
scripts/e2e.sh. Without them, 'make test' runs the same tests on the
embedded engines.
MSG
	exit 2
fi

# The legacy names win in testenv; make sure they cannot silently redirect
# this run elsewhere.
unset TRAILWATCH_TEST_KAFKA_BROKERS CLICKHOUSE_ADDR CLICKHOUSE_USER CLICKHOUSE_PASSWORD

echo "make e2e: Kafka ${TRAILWATCH_E2E_KAFKA_BROKERS}, ClickHouse ${TRAILWATCH_E2E_CLICKHOUSE_URL%%//*}//${TRAILWATCH_E2E_CLICKHOUSE_URL##*@}"

# Every package whose tests (internal or external) import internal/testenv.
mapfile -t pkgs < <(go list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... |
	awk '/github.com\/trailwatch\/trailwatch\/internal\/testenv( |$)/ {print $1}')
if ((${#pkgs[@]} == 0)); then
	echo "make e2e: no package uses internal/testenv" >&2
	exit 1
fi
echo "make e2e: ${#pkgs[@]} packages"
# -p 2: the tests share one cluster and one server; keep the load sane.
exec go test -count=1 -p 2 -timeout 45m "$@" "${pkgs[@]}"
