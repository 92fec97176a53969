# Shared by the measure-*-gas.sh scripts (sourced, not run): a fresh anvil on `$port` with the contracts'
# artifacts exported to `$out`, anvil's well-known dev keys, and helpers that send transactions and print
# their receipts' gasUsed (21,000 intrinsic + calldata included), deploy an artifact, move the chain's
# clock, and report a figure against its budget (`status` becomes 1 when one is over).
#
# Usage: set `port` (each script its own, so that two can run at once), then
#   source "$here/lib/anvil-gas.sh"
# Needs bash with `set -euo pipefail`, jq, and the repository's node_modules (forge, anvil, cast).

contracts="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$(dirname "$contracts")/node_modules/@foundry-rs"
anvil="$bin/anvil-linux-amd64/bin/anvil"
cast="$bin/cast-linux-amd64/bin/cast"
out=$(mktemp -d)
"$(dirname "$contracts")/scripts/export-artifacts.sh" "$out" >/dev/null
rpc="http://127.0.0.1:$port"

# anvil's well-known dev keys and their addresses.
k0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
k1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
k2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
k3=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
a0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
a1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
a2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
a3=0x90F79bf6EB2c4f870365E785982E1f101E93b906
eth=0x0000000000000000000000000000000000000000

"$anvil" --port "$port" --silent &
anvil_pid=$!
trap 'kill "$anvil_pid" 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 50); do "$cast" chain-id --rpc-url "$rpc" >/dev/null 2>&1 && break; sleep 0.1; done
chain_id=$("$cast" chain-id --rpc-url "$rpc")

send() { # key, then cast send arguments; prints gasUsed
    local key="$1"
    shift
    "$cast" send --rpc-url "$rpc" --private-key "$key" --json "$@" | jq -r '.gasUsed' | xargs printf '%d\n'
}
deploy() { # key, artifact name, then constructor signature and arguments; prints the address
    "$cast" send --rpc-url "$rpc" --private-key "$1" --json --create "$(jq -r '.bytecode.object' "$out/$2.json")" \
        "${@:3}" | jq -r '.contractAddress'
}
advance() { # seconds
    "$cast" rpc --rpc-url "$rpc" evm_increaseTime "$1" >/dev/null
    "$cast" rpc --rpc-url "$rpc" evm_mine >/dev/null
}
now() { "$cast" block latest --field timestamp --rpc-url "$rpc"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

status=0
report() { # label, gas, budget (0: for information)
    local verdict="(no budget)"
    if (($3 > 0)); then
        verdict="(budget $3) ok"
        if (($2 > $3)); then
            verdict="(budget $3) OVER BUDGET"
            status=1
        fi
    fi
    printf '%-58s %7d  %s\n' "$1" "$2" "$verdict"
}
