#!/bin/bash
# Run by the clickhouse/clickhouse-server image on start (files in
# /docker-entrypoint-initdb.d), as the image's default user, which is only
# reachable from inside the container and, with
# CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=1, may manage access.
#
# It creates the users Trailwatch connects as, with passwords from the
# mounted secrets, and the roles they hold. The roles' privileges and row
# policies come from the migration 0006_access_control.sql, which
# `trailwatch migrate` applies as trailwatch_admin (docs/STORAGE.md):
#
#   trailwatch_admin    migrations, retention, access control (migrate only)
#   trailwatch_sink     role trailwatch_writer: inserts, reads its bookkeeping
#   trailwatch_grafana  role trailwatch_analyst, readonly = 2 (no writes;
#                       settings allowed, which the Grafana plugin needs)
#
# Idempotent: users are created once and their passwords reset from the
# secrets on every start, so rotating a secret is a restart.
set -euo pipefail

secret() {
	local f="/run/secrets/$1"
	if [[ ! -s "$f" ]]; then
		echo "trailwatch: secret $f is missing or empty (run scripts/compose-secrets.sh)" >&2
		exit 1
	fi
	# One line, trailing newline dropped; quoted for a SQL string literal.
	tr -d '\r\n' <"$f" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g"
}

admin_pw=$(secret clickhouse-admin-password)
sink_pw=$(secret clickhouse-sink-password)
grafana_pw=$(secret clickhouse-grafana-password)

clickhouse client --multiquery <<SQL
CREATE ROLE IF NOT EXISTS trailwatch_writer;
CREATE ROLE IF NOT EXISTS trailwatch_analyst;
CREATE ROLE IF NOT EXISTS trailwatch_auditor;
CREATE ROLE IF NOT EXISTS trailwatch_tenant;

CREATE USER IF NOT EXISTS trailwatch_admin IDENTIFIED WITH sha256_password BY '${admin_pw}';
ALTER USER trailwatch_admin IDENTIFIED WITH sha256_password BY '${admin_pw}';
GRANT ALL ON *.* TO trailwatch_admin WITH GRANT OPTION;

CREATE USER IF NOT EXISTS trailwatch_sink IDENTIFIED WITH sha256_password BY '${sink_pw}';
ALTER USER trailwatch_sink IDENTIFIED WITH sha256_password BY '${sink_pw}';
GRANT trailwatch_writer TO trailwatch_sink;
ALTER USER trailwatch_sink DEFAULT ROLE trailwatch_writer;

CREATE USER IF NOT EXISTS trailwatch_grafana IDENTIFIED WITH sha256_password BY '${grafana_pw}';
ALTER USER trailwatch_grafana IDENTIFIED WITH sha256_password BY '${grafana_pw}' SETTINGS readonly = 2;
GRANT trailwatch_analyst TO trailwatch_grafana;
ALTER USER trailwatch_grafana DEFAULT ROLE trailwatch_analyst;
SQL
echo "trailwatch: ClickHouse users and roles are in place"
