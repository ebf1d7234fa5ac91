#!/usr/bin/env bash
# Creates the secrets docker-compose.yml mounts, under deploy/secrets/
# (ignored by git), each only if it does not exist yet: random passwords and
# tokens, and the Ed25519 key the sink signs integrity checkpoints with.
# Production keeps these in a secret manager; this is for the local stack.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=deploy/secrets
mkdir -p "$dir"
chmod 700 "$dir"

random() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

for name in simulator-token clickhouse-admin-password clickhouse-sink-password clickhouse-grafana-password grafana-admin-password; do
	f="$dir/$name"
	if [[ ! -s "$f" ]]; then
		(umask 077 && random >"$f")
		echo "created $f"
	fi
done

key="$dir/integrity-key.pem"
if [[ ! -s "$key" ]]; then
	if ! command -v openssl >/dev/null; then
		echo "openssl is needed to create $key (openssl genpkey -algorithm ed25519)" >&2
		exit 1
	fi
	(umask 077 && openssl genpkey -algorithm ed25519 -out "$key")
	echo "created $key"
fi
# The containers run as non-root users other than yours: let them read the
# files (the directory itself stays private to you).
chmod 644 "$dir"/*
