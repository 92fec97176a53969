#!/usr/bin/env bash
# Measure what buyers and sellers pay for DataMarket: gasUsed from anvil receipts (21,000 intrinsic +
# calldata included) for openOrder, end, challenge and settle, in MarketToken (AMT) and ETH, against the
# issue's bar: an order and its settlement together below four ERC-20 transfers (an AMT transfer between
# two accounts that already hold AMT, measured here in the same run).
#
# Usage (from anywhere; builds the contracts first if needed):
#   bash contracts/script/measure-data-gas.sh
# Prints one line per measured transaction, then the totals against the bar. Exits non-zero if a
# transaction goes over its budget (the same budgets as test/DataMarket.gas.t.sol); the bar itself is
# reported, not enforced (see docs/data-market-contract.md for why it is out of reach).
#
# Conditions: buyer and seller already hold AMT and ETH, another buyer's order keeps AMT in the contract,
# the buyer's allowance is finite (each order pays to lower it; the approval is not counted), nonces are
# 32 random-looking bytes, ACKs are signed by a session key, and partial settlements pay both parties.
# ACKs are signed as EIP-712 typed data by cast from the JSON below, independently of the contract, so a
# successful end also checks the type string and the domain.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${GAS_ANVIL_PORT:-18547}"
window=3600

# Keys (lib/anvil-gas.sh): 0 deploys, is another buyer and settles as a third party; 1 is the seller, 2
# the buyer, 3 the buyer's browser session key (it only signs ACKs).
source "$here/lib/anvil-gas.sh"

nonce() { "$cast" keccak "$1"; }

token=$(deploy "$k0" MarketToken)
market=$(deploy "$k0" DataMarket 'constructor(uint64)' "$window")
for account in "$a0" "$a1" "$a2"; do
    send "$k0" "$token" 'mint(address,uint256)' "$account" 1000000000000000000000 >/dev/null
done
send "$k1" "$market" 'register(string,address,bytes32,string)' "data.example.org:7400" "$a1" "$(nonce menu)" \
    "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku" >/dev/null
send "$k0" "$token" 'approve(address,uint256)' "$market" 1000000000000000000000 >/dev/null
# A large allowance that is not type(uint256).max, so every order also pays to lower it.
send "$k2" "$token" 'approve(address,uint256)' "$market" 500000000000000000000 >/dev/null

price_amt=100000000000000000000 # 100 AMT
price_eth=1000000000000000000   # 1 ETH
total=10485760                  # 10 MiB
part=3145728                    # 3 MiB delivered and acknowledged

open_order() { # key, token, price, nonce, then extra cast arguments; the order runs one day from now
    local now
    now=$("$cast" block latest --field timestamp --rpc-url "$rpc")
    send "$1" "$market" 'openOrder(address,address,uint256,uint64,uint64,uint64,uint256,address,uint8)' "$a1" "$2" \
        "$3" "$total" $((now + 86400)) "$now" "$4" "$a3" 0 "${@:5}"
}
ack() { # order id, received: the session key's EIP-712 signature
    local typed
    typed=$(jq -cn --arg id "$1" --arg received "$2" --arg contract "$market" --argjson chain "$chain_id" '{
        types: {
            EIP712Domain: [
                {name: "name", type: "string"}, {name: "version", type: "string"},
                {name: "chainId", type: "uint256"}, {name: "verifyingContract", type: "address"}
            ],
            Ack: [{name: "orderId", type: "bytes32"}, {name: "received", type: "uint64"}]
        },
        primaryType: "Ack",
        domain: {name: "Agora DataMarket", version: "1", chainId: $chain, verifyingContract: $contract},
        message: {orderId: $id, received: $received}
    }')
    "$cast" wallet sign --private-key "$k3" --data "$typed"
}
end_by_seller() { # order id, received
    send "$k1" "$market" 'end(bytes32,uint64,bytes)' "$1" "$2" "$(ack "$1" "$2")"
}
last_order_id() { # the orderId topic of the latest block's OrderOpened
    "$cast" logs --rpc-url "$rpc" --address "$market" --from-block latest --to-block latest \
        'OrderOpened(bytes32,address,address,address,uint256,uint64,uint64,uint64,uint256,address,uint8)' --json |
        jq -r '.[-1].topics[1]'
}
# The bar: an AMT transfer between two accounts that hold AMT (no balance goes from or to zero).
transfer=$(send "$k2" "$token" 'transfer(address,uint256)' "$a1" 1000000000000000000)
report "ERC-20 transfer (AMT, both accounts hold AMT)" "$transfer" 0

# Another buyer's order keeps AMT in the contract, as other users' orders would.
open_order "$k0" "$token" "$price_amt" "$(nonce other)" >/dev/null

# Partial delivery: order, the seller ends with its ACK, a third party settles after the window.
open_amt=$(open_order "$k2" "$token" "$price_amt" "$(nonce amt-1)")
report "openOrder AMT" "$open_amt" 145000
amt_id=$(last_order_id)
end_amt=$(end_by_seller "$amt_id" "$part")
report "end AMT by the seller (65-byte ACK)" "$end_amt" 46500

open_eth=$(open_order "$k2" "$eth" "$price_eth" "$(nonce eth-1)" --value "$price_eth")
report "openOrder ETH" "$open_eth" 145000
eth_id=$(last_order_id)
end_eth=$(end_by_seller "$eth_id" "$part")
report "end ETH by the seller (65-byte ACK)" "$end_eth" 46500

open_order "$k2" "$token" "$price_amt" "$(nonce amt-2)" >/dev/null
challenged_id=$(last_order_id)
report "end AMT by the buyer (a low figure, no signature)" \
    "$(send "$k2" "$market" 'end(bytes32,uint64,bytes)' "$challenged_id" 1024 0x)" 46500
report "challenge AMT by the seller (its higher ACK)" \
    "$(send "$k1" "$market" 'challenge(bytes32,uint64,bytes)' "$challenged_id" "$part" "$(ack "$challenged_id" "$part")")" \
    46500

advance "$window"
settle_amt=$(send "$k0" "$market" 'settle(bytes32)' "$amt_id")
report "settle AMT by a third party (two payouts)" "$settle_amt" 61500
settle_eth=$(send "$k0" "$market" 'settle(bytes32)' "$eth_id")
report "settle ETH by a third party (two payouts)" "$settle_eth" 61500

# Full delivery: the seller's final ACK settles at once.
open_full=$(open_order "$k2" "$token" "$price_amt" "$(nonce amt-3)")
end_full=$(end_by_seller "$(last_order_id)" "$total")
report "end AMT with the full ACK (settles at once)" "$end_full" 62500

bar=$((4 * transfer))
partial=$((open_amt + end_amt + settle_amt))
full=$((open_full + end_full))
echo
printf '%-58s %7d\n' "bar: 4 x ERC-20 transfer" "$bar"
printf '%-58s %7d  (%s x the bar)\n' "openOrder + end + settle, AMT, partial delivery" "$partial" "$(ratio "$partial" "$bar")"
printf '%-58s %7d  (%s x the bar)\n' "openOrder + end with the full ACK, AMT" "$full" "$(ratio "$full" "$bar")"
printf '%-58s %7d  (%s x the bar)\n' "openOrder alone, AMT" "$open_amt" "$(ratio "$open_amt" "$bar")"
exit $status
