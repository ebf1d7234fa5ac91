#!/bin/bash
# The one-shot clickhouse-users service of docker-compose.yml: connects to
# the clickhouse service as trailwatch_admin (the image's entrypoint creates
# that user from CLICKHOUSE_USER and the password secret, and removes the
# passwordless default user) and creates the users Trailwatch's roles
# connect as, with passwords from the mounted secrets, and the roles they
# hold. The roles' privileges and row policies come from the migration
# 0006_access_control.sql, which `trailwatch migrate` applies next, as
# trailwatch_admin (docs/STORAGE.md):
#
#   trailwatch_admin    migrations, retention, access control (migrate only)
#   trailwatch_sink     role trailwatch_writer: inserts, reads its bookkeeping
#   trailwatch_grafana  role trailwatch_analyst, readonly = 2 (no writes;
#                       settings allowed, which the Grafana plugin needs)
#
# Idempotent: users are created once and their passwords reset from the
# secrets on every run, so rotating a secret is a restart of the stack.
set -euo pipefail

secret() {
	local f="/run/secrets/$1"
	if [[ ! -s "$f" ]]; then
		echo "trailwatch: secret $f is missing or empty (run scripts/compose-secrets.sh)" >&2
		exit 1
	fi
	tr -d '\r\n' <"$f"
}
# sql quotes a value for a SQL string literal; xml for an XML text node.
sql() { sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g"; }
xml() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

sink_pw=$(secret clickhouse-sink-password | sql)
grafana_pw=$(secret clickhouse-grafana-password | sql)

# The administrator's password goes to the client in a private file, not
# on its command line.
conf=$(mktemp /tmp/clickhouse-client.XXXXXX.xml)
trap 'rm -f "$conf"' EXIT
cat >"$conf" <<XML
<config>
  <host>${CLICKHOUSE_HOST:-clickhouse}</host>
  <user>trailwatch_admin</user>
  <password>$(secret clickhouse-admin-password | xml)</password>
</config>
XML

clickhouse client --config-file "$conf" --multiquery <<SQL
CREATE ROLE IF NOT EXISTS trailwatch_writer;
CREATE ROLE IF NOT EXISTS trailwatch_analyst;
CREATE ROLE IF NOT EXISTS trailwatch_auditor;
CREATE ROLE IF NOT EXISTS trailwatch_tenant;

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
