#!/usr/bin/env bash
# Fetches libchdb.so (the ClickHouse engine as a library) from the npm
# registry at a pinned version, checks the tarball's integrity hash against
# the one npm publishes, and unpacks the library into a cache outside the
# repository. Idempotent: an intact cached copy is kept.
set -euo pipefail

version="26.5.3"
# sha512 of the tarball, the hex form of npm's dist.integrity
# (sha512-fPrLmRt5Moor9yGz4mazbrNje4t7X9KB2mTGkXFWRxRBs2iKy8yh6jx11xsa0Qr3iDFMU/yHqd+bVdYJXu3QaQ==).
sha512="7cfacb991b79328a2bf721b3e266b36eb3637b8b7b5fd281da64c6917156471441b3688acbcca1ea3c75d71b1ad10af788314c53fc87a9df9b55d6095eedd069"
url="https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-${version}.tgz"

cache="${TRAILWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch}"
dest="$cache/chdb-$version"
lib="$dest/libchdb.so"

if [ -f "$lib" ] && [ -f "$dest/.complete" ]; then
  echo "libchdb $version: $lib"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "fetch-chdb: the embedded ClickHouse engine is packaged for linux-x64 only (this is $(uname -s)-$(uname -m)); point Trailwatch at a ClickHouse server instead" >&2; exit 1 ;;
esac

mkdir -p "$dest"
tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "fetching libchdb $version from the npm registry (about 166 MB)"
curl -fsSL --retry 3 -o "$tmp/chdb.tgz" "$url"
got="$(sha512sum "$tmp/chdb.tgz" | cut -d' ' -f1)"
if [ "$got" != "$sha512" ]; then
  echo "fetch-chdb: integrity check failed for $url: sha512 $got, want $sha512" >&2
  exit 1
fi
tar -xzf "$tmp/chdb.tgz" -C "$tmp" package/libchdb.so
mv "$tmp/package/libchdb.so" "$lib"
touch "$dest/.complete"
echo "libchdb $version: $lib"
