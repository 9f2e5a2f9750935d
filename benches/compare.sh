#!/usr/bin/env bash
# The side-by-side benchmark, in one command, from a fresh clone on Debian as root:
#   benches/compare.sh [--seconds 10] [--connections 64] [--skip hops,light,connections,queued]
# Installs what is missing (nginx and PostgreSQL from Debian, oha from crates.io into
# .tools/bin), builds hookseal and the benchmark's own upstream and driver in release mode,
# and prints Markdown tables on stdout (progress goes to stderr). Only loopback addresses are
# used.
set -euo pipefail
cd "$(dirname "$0")/.."

OHA_VERSION=1.16.0
target="${CARGO_TARGET_DIR:-$PWD/target}"

nginx_bin="$(command -v nginx || true)"
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
    echo "installing nginx from Debian" >&2
    # Keep the package from starting a system-wide nginx: the benchmark runs its own.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
    fi
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >&2 \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
    [ "$made_policy" = 1 ] && rm -f "$policy"
    nginx_bin=/usr/sbin/nginx
fi

# The queued run also measures the shared store, on a throwaway PostgreSQL server.
tests/tools/install-postgres.sh >&2

if [ ! -x .tools/bin/oha ]; then
    echo "installing oha $OHA_VERSION from crates.io into .tools/bin" >&2
    cargo install --locked --quiet --root .tools "oha@$OHA_VERSION"
fi

cargo build --release --locked --quiet --bin hookseal --example bench-compare --example bench-upstream

# 1,000 client connections need more descriptors than the usual 1,024.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

exec "$target/release/examples/bench-compare" \
    --hookseal "$target/release/hookseal" \
    --upstream "$target/release/examples/bench-upstream" \
    --nginx "$nginx_bin" \
    --oha .tools/bin/oha \
    "$@"
