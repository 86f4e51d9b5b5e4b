#!/usr/bin/env bash
# The whole local workflow on the embedded engine, no Docker: up, produce, consume into
# examples/handler.py the way Lambda would invoke it, status, and down again.
#   cargo build --release && examples/demo.sh
# KINLOCAL_BIN picks another binary (the tests run this script with the debug build).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${KINLOCAL_BIN:-$here/../target/release/kinlocal}"
state="$(mktemp -d)"
trap '"$bin" down --state-dir "$state" >/dev/null 2>&1 || true; rm -rf "$state"' EXIT

"$bin" up --backend embedded --port 0 --state-dir "$state"
"$bin" produce --count 1000 --state-dir "$state"
"$bin" consume --exec "$here/handler.py" --report-batch-item-failures --until-idle 2s --state-dir "$state"
"$bin" status --state-dir "$state"
