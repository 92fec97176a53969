#!/usr/bin/env bash
# Writes the contract artifacts the Rust bindings are generated from:
#   DEST_DIR/<Name>.json = {"abi": [...], "bytecode": {"object": "0x…"}, "deployedBytecode": {"object": "0x…"}}
# for each contract below, taken from a `forge build` of contracts/ (run here; a no-op when up to date).
# Output is deterministic: jq -S sorts keys, and the bytecode carries no metadata hash (foundry.toml).
# Usage: scripts/export-artifacts.sh DEST_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DEST_DIR" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
forge="$root/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
contracts=(Communities CommunityPoints ComputeMarket DataMarket FederatedMarket MarketToken PaymentChannel TaskBoard)

(cd "$root/contracts" && "$forge" build --quiet)
# `forge lint` (forge 1.7) compiles without bytecode into the same out/ and cache, and a later
# `forge build` then sees nothing to do: rebuild from scratch when an artifact lacks its bytecode.
for name in "${contracts[@]}"; do
    if [[ $(jq -r '.bytecode.object // ""' "$root/contracts/out/$name.sol/$name.json") != 0x?* ]]; then
        (cd "$root/contracts" && "$forge" build --quiet --force)
        break
    fi
done
mkdir -p "$dest"
for name in "${contracts[@]}"; do
    artifact="$root/contracts/out/$name.sol/$name.json"
    jq -S '{abi: .abi, bytecode: {object: .bytecode.object}, deployedBytecode: {object: .deployedBytecode.object}}' \
        "$artifact" >"$dest/$name.json.tmp"
    if [[ $(jq -r '.bytecode.object' "$dest/$name.json.tmp") != 0x?* ]]; then
        echo "export-artifacts: $name has no bytecode" >&2
        exit 1
    fi
    mv "$dest/$name.json.tmp" "$dest/$name.json"
    echo "$dest/$name.json"
done
