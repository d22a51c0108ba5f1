#!/usr/bin/env bash
# Installs the lowest Node the project supports (package.json engines: >=20.19) from the npm
# registry's node-linux-<arch> package into .node-lowest/ and prints the path of its `node`.
set -euo pipefail
cd "$(dirname "$0")/.."
version=20.19.0
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
bin=.node-lowest/node_modules/node-linux-$arch/bin/node
if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$version" ]; then
  mkdir -p .node-lowest
  npm install --prefix .node-lowest --no-save --no-audit --no-fund --no-package-lock "node-linux-$arch@$version" >&2
fi
echo "$PWD/$bin"
