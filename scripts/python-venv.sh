#!/usr/bin/env bash
# Installs the pinned Python test peers and template validators (requirements/*.txt) into .venv.
# Idempotent: a stamp holding the requirements' hash makes a second run a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(requirements/*.txt)
[ ${#files[@]} -eq 0 ] && exit 0
hash=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)
if [ -f .venv/.stamp ] && [ "$(cat .venv/.stamp)" = "$hash" ]; then exit 0; fi
python3 -m venv .venv
args=()
for f in "${files[@]}"; do args+=(-r "$f"); done
.venv/bin/pip install --quiet --disable-pip-version-check "${args[@]}"
echo "$hash" > .venv/.stamp
