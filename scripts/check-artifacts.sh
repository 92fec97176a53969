#!/usr/bin/env bash
# Fails when crates/chain/artifacts (what the Rust bindings are generated from) is stale against a
# fresh `forge build` in contracts/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
"$root/scripts/export-artifacts.sh" "$fresh" >/dev/null
if ! diff -r "$root/crates/chain/artifacts" "$fresh" >/dev/null; then
    echo "crates/chain/artifacts is stale against the contracts: run \`make artifacts\` and commit the result" >&2
    diff -r "$root/crates/chain/artifacts" "$fresh" | head -20 >&2
    exit 1
fi
echo "artifacts: up to date"
