#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries (initdb, postgres) are installed. The tests
# start and stop their own throwaway clusters with them; no system cluster is used.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries are missing; install Debian's postgresql package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends postgresql
# The package starts a system cluster; the tests do not use it.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h | while read -r version name _; do
    pg_ctlcluster "$version" "$name" stop || true
  done
fi
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
