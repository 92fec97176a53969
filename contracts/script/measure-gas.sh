#!/usr/bin/env bash
# Measure what users pay: gasUsed from anvil receipts (21,000 intrinsic + calldata included) for
# buyCompute + completeTask on an ETH service and on a MarketToken service, platform fee 0.
#
# Usage (from anywhere; builds the contracts first if needed):
#   bash contracts/script/measure-gas.sh
# Prints one line per measured transaction and the sums; exits non-zero if a target is missed
# (ETH: 130,000; ERC-20: 160,000 for buy + complete).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
contracts="$(dirname "$here")"
bin="$(dirname "$contracts")/node_modules/@foundry-rs"
anvil="$bin/anvil-linux-amd64/bin/anvil"
cast="$bin/cast-linux-amd64/bin/cast"
out=$(mktemp -d)
"$(dirname "$contracts")/scripts/export-artifacts.sh" "$out" >/dev/null
port="${GAS_ANVIL_PORT:-18545}"
rpc="http://127.0.0.1:$port"

# anvil's well-known dev keys: 0 deploys and operates, 1 provides, 2 buys.
k0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
k1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
k2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
a0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
a1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
a2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC

input="bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
result="bafkreidvbhs33ighmljlvr7zbv2ywwzcmp5adtf4kqvgdhsjnx4ctlpqlq"

"$anvil" --port "$port" --silent &
anvil_pid=$!
trap 'kill "$anvil_pid" 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 50); do "$cast" chain-id --rpc-url "$rpc" >/dev/null 2>&1 && break; sleep 0.1; done

send() { # key, then cast send arguments; prints gasUsed
    local key="$1"
    shift
    "$cast" send --rpc-url "$rpc" --private-key "$key" --json "$@" | jq -r '.gasUsed' | xargs printf '%d\n'
}
deploy() { # key, artifact name, constructor args (ABI-encoded hex without 0x, may be empty)
    local code
    code="$(jq -r '.bytecode.object' "$out/$2.json")$3"
    "$cast" send --rpc-url "$rpc" --private-key "$1" --json --create "$code" | jq -r '.contractAddress'
}

token=$(deploy "$k0" MarketToken "")
market=$(deploy "$k0" ComputeMarket "$("$cast" abi-encode 'f(address)' "$a0" | cut -c3-)")
send "$k0" "$market" 'setOperator(address,bool)' "$a0" true >/dev/null
send "$k1" "$market" 'listService(address,uint256,uint64,string)' 0x0000000000000000000000000000000000000000 \
    10000000000000000 3600 "ipfs://$input" >/dev/null
send "$k1" "$market" 'listService(address,uint256,uint64,string)' "$token" 5000000000000000000 3600 \
    "ipfs://$input" >/dev/null
send "$k0" "$token" 'mint(address,uint256)' "$a2" 1000000000000000000000 >/dev/null
send "$k0" "$token" 'mint(address,uint256)' "$a1" 1000000000000000000000 >/dev/null
# A large allowance that is not type(uint256).max, so every purchase also pays to lower it.
send "$k2" "$token" 'approve(address,uint256)' "$market" 500000000000000000000 >/dev/null

buy_eth() { send "$k2" "$market" 'buyCompute(uint256,string,uint256,uint64)' 1 "$input" 10000000000000000 3600 --value 10000000000000000; }
buy_amt() { send "$k2" "$market" 'buyCompute(uint256,string,uint256,uint64)' 2 "$input" 5000000000000000000 3600; }
complete() { send "$1" "$market" 'completeTask(uint256,string)' "$2" "$result"; }

# Warm the counters and the balances: task 1 (ETH) and 2 (AMT) are bought and completed; task 3
# (AMT) stays in escrow, as tasks of other buyers would, so the market's token balance is non-zero.
buy_eth >/dev/null
complete "$k0" 1 >/dev/null
buy_amt >/dev/null
complete "$k0" 2 >/dev/null
buy_amt >/dev/null

status=0
report() { # label, buy gas, complete gas, target (0: informational)
    local sum=$(($2 + $3)) verdict="(no target)"
    if (($4 > 0)); then
        verdict="(target $4) ok"
        ((sum <= $4)) || {
            verdict="(target $4) OVER TARGET"
            status=1
        }
    fi
    printf '%-44s buy %7d  complete %7d  sum %7d  %s\n' "$1" "$2" "$3" "$sum" "$verdict"
}

b=$(buy_eth) && c=$(complete "$k0" 4) && report "ETH, completed by operator" "$b" "$c" 130000
b=$(buy_eth) && c=$(complete "$k1" 5) && report "ETH, completed by provider" "$b" "$c" 130000
b=$(buy_amt) && c=$(complete "$k0" 6) && report "AMT, completed by operator" "$b" "$c" 160000
b=$(buy_amt) && c=$(complete "$k1" 7) && report "AMT, completed by provider" "$b" "$c" 160000
# For information: no other escrow in the token, so the token's own storage write for the market's
# balance goes 0 -> price -> 0 (20,000 more on the buy, a 4,800 refund on the completion).
complete "$k0" 3 >/dev/null
b=$(buy_amt) && c=$(complete "$k0" 8) && report "AMT, operator, market holds no other AMT" "$b" "$c" 0
exit $status
