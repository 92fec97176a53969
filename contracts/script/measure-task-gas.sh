#!/usr/bin/env bash
# Measure what publishers and workers pay on the TaskBoard: gasUsed from anvil receipts (21,000 intrinsic
# + calldata included) for publish, accept, submit and approve, in MarketToken (AMT) and ETH, with and
# without community points, next to an ERC-20 transfer measured in the same run.
#
# Usage (from anywhere; builds the contracts first if needed):
#   bash contracts/script/measure-task-gas.sh
# Prints one line per measured transaction, then the lifecycle's total. Exits non-zero if a transaction
# goes over its budget (the same budgets as test/TaskBoard.gas.t.sol).
#
# Conditions: the publisher and the workers already hold AMT, another publisher's task keeps AMT in the
# board, the publisher's allowance is finite (each publish pays to lower it; the approval is not
# counted), tasks have three slots, the deliverable is a 36-byte CID, and the worker of the points task
# already holds points (so the mint does not create its balance).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${GAS_ANVIL_PORT:-18548}"
# Keys (lib/anvil-gas.sh): 0 deploys, is the platform arbiter and another publisher; 1 publishes and owns
# the community; 2 and 3 work.
source "$here/lib/anvil-gas.sh"

answer=259200 # three days for a rejected worker to answer
review=172800
timeout=86400
slots=3
reward_amt=300000000000000000000 # 300 AMT, 100 per slot
reward_eth=3000000000000000000   # 3 ETH
spec="ipfs://bafkreitaskspecdefeatthedragonboss"
work="bafkreideliverablescreenshotofthewin"

token=$(deploy "$k0" MarketToken)
communities=$(deploy "$k0" Communities)
board=$(deploy "$k0" TaskBoard 'constructor(address,address,uint64)' "$communities" "$a0" "$answer")
for account in "$a0" "$a1" "$a2" "$a3"; do
    send "$k0" "$token" 'mint(address,uint256)' "$account" 1000000000000000000000 >/dev/null
done
send "$k0" "$token" 'approve(address,uint256)' "$board" 1000000000000000000000 >/dev/null
# A large allowance that is not type(uint256).max, so every publish also pays to lower it.
send "$k1" "$token" 'approve(address,uint256)' "$board" 900000000000000000000 >/dev/null
# The community: the publisher owns it (so it is an admin) and gives the board a points budget.
send "$k1" "$communities" 'createCommunity(string,string,string,address)' Guild GLD ipfs://guild "$a0" >/dev/null
guild=1
send "$k1" "$communities" 'setMinterAllowance(uint256,address,uint128)' "$guild" "$board" 1000 >/dev/null
send "$k1" "$communities" 'mint(uint256,address,uint256,bytes32)' "$guild" "$a3" 5 "$("$cast" keccak welcome)" >/dev/null

publish() { # key, token, reward, community, points, then extra cast arguments; the task runs a week
    local deadline=$(($(now) + 604800))
    send "$1" "$board" 'publish((address,uint96,uint16,uint64,uint96,uint40,uint32,uint32,uint8,string))' \
        "($2,$3,$slots,$4,$5,$deadline,$review,$timeout,2,$spec)" "${@:6}"
}
last_task() { "$cast" call --rpc-url "$rpc" "$board" 'taskCount()(uint256)'; }
accept() { # key, task id
    local terms
    terms=$("$cast" call --rpc-url "$rpc" "$board" 'getTask(uint256)((address,uint40,uint32,uint8,uint8,bool,address,uint96,address,uint32,uint16,uint16,uint16,uint16,uint96,uint64))' "$2")
    # rewardPerSlot and deadline, as the worker saw them
    local per_slot deadline
    per_slot=$(echo "$terms" | tr -d '()' | awk -F', ' '{ print $8 }' | awk '{ print $1 }')
    deadline=$(echo "$terms" | tr -d '()' | awk -F', ' '{ print $2 }' | awk '{ print $1 }')
    send "$1" "$board" 'accept(uint256,uint96,uint40)' "$2" "$per_slot" "$deadline"
}

# The bar: an AMT transfer between two accounts that hold AMT (no balance goes from or to zero).
report "ERC-20 transfer (AMT, both accounts hold AMT)" \
    "$(send "$k2" "$token" 'transfer(address,uint256)' "$a1" 1000000000000000000)" 0

# Another publisher's task keeps AMT in the board, as other users' tasks would.
publish "$k0" "$token" "$reward_amt" 0 0 >/dev/null

publish_amt=$(publish "$k1" "$token" "$reward_amt" 0 0)
report "publish AMT, 3 slots" "$publish_amt" 136000
amt_task=$(last_task)
report "publish ETH, 3 slots" "$(publish "$k1" "$eth" "$reward_eth" 0 0 --value "$reward_eth")" 112500
eth_task=$(last_task)
report "publish AMT with points, 3 slots" "$(publish "$k1" "$token" "$reward_amt" "$guild" 50)" 178500
points_task=$(last_task)

accept_gas=$(accept "$k2" "$amt_task")
report "accept" "$accept_gas" 59000
submit_gas=$(send "$k2" "$board" 'submit(uint256,string)' "$amt_task" "$work")
report "submit (a 36-byte CID)" "$submit_gas" 44500
approve_gas=$(send "$k1" "$board" 'approve(uint256,address)' "$amt_task" "$a2")
report "approve AMT" "$approve_gas" 60000

accept "$k2" "$eth_task" >/dev/null
send "$k2" "$board" 'submit(uint256,string)' "$eth_task" "$work" >/dev/null
report "approve ETH" "$(send "$k1" "$board" 'approve(uint256,address)' "$eth_task" "$a2")" 60000

accept "$k3" "$points_task" >/dev/null
send "$k3" "$board" 'submit(uint256,string)' "$points_task" "$work" >/dev/null
report "approve AMT with points" "$(send "$k1" "$board" 'approve(uint256,address)' "$points_task" "$a3")" 94000

# Silence: once the review window lapses, anyone approves.
accept "$k3" "$amt_task" >/dev/null
send "$k3" "$board" 'submit(uint256,string)' "$amt_task" "$work" >/dev/null
advance "$review"
report "approveLapsed AMT by a third party" "$(send "$k0" "$board" 'approveLapsed(uint256,address)' "$amt_task" "$a3")" 0

total=$((publish_amt / slots + accept_gas + submit_gas + approve_gas))
echo
printf '%-58s %7d\n' "one slot's life, AMT (publish / 3 + accept + submit + approve)" "$total"
exit $status
