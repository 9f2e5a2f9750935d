#!/usr/bin/env bash
# Installs the receivers' verification libraries that tests/signatures.rs runs for real:
# a Python venv at <repo>/.tools/venv from requirements.txt, and tests/tools/node_modules
# from package-lock.json. Idempotent: a stamp holding the pin files' hash skips the work
# when nothing changed. Any failure stops the script with a non-zero exit.
set -euo pipefail

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$tools_dir/../.." && pwd)"
venv_dir="$repo_dir/.tools/venv"
stamp="$repo_dir/.tools/stamp"

pins_hash="$(cat "$tools_dir/requirements.txt" "$tools_dir/package.json" \
  "$tools_dir/package-lock.json" | sha256sum | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$pins_hash" \
  && -x "$venv_dir/bin/python" && -d "$tools_dir/node_modules/@octokit/webhooks-methods" ]]; then
  echo "test tools up to date ($venv_dir, $tools_dir/node_modules)"
  exit 0
fi

rm -f "$stamp"
mkdir -p "$repo_dir/.tools"

if [[ ! -x "$venv_dir/bin/python" ]]; then
  python3 -m venv "$venv_dir"
fi
"$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-deps --require-virtualenv -r "$tools_dir/requirements.txt"
"$venv_dir/bin/python" -m pip check

(cd "$tools_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

echo "$pins_hash" > "$stamp"
echo "test tools installed ($venv_dir, $tools_dir/node_modules)"
