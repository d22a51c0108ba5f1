#!/usr/bin/env bash
# Checks deploy/systemd/*.service with `systemd-analyze verify` (Debian's systemd package, installed
# when missing). Strict: any complaint (an unknown key is only a warning to systemd) fails.
# ExecStart names /usr/bin/node; where node lives elsewhere the copy checked points at it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node_bin=$(command -v node)
for unit in deploy/systemd/*.service; do
  sed "s|^ExecStart=/usr/bin/node |ExecStart=${node_bin} |" "$unit" > "$tmp/$(basename "$unit")"
  out=$(systemd-analyze verify "$tmp/$(basename "$unit")" 2>&1) || { echo "$out"; echo "systemd-analyze verify failed: $unit"; exit 1; }
  if [ -n "$out" ]; then echo "$out"; echo "systemd-analyze verify complained: $unit"; exit 1; fi
  echo "systemd-analyze verify: $unit ok"
done
