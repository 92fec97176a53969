"""The node's paid OpenAI-compatible API driven by the unmodified official client (PyPI `openai`).

Run by scripts/openai-client.sh against a fresh `agora up`: argv[1] is the node's URL, argv[2] its
dev.json (the dev chain's RPC URL and accounts). As the dev buyer it opens a MarketToken channel to
the assistant's payee with a fresh session key as the voucher signer (approve, then open, with
`cast`), then pays with the `Agora-Voucher: <channelId>:<cumulativeAmount>:<signature>` header set
through the client's `default_headers` (docs/assistant-payments.md, "Programs"):

- GET /v1/models through the client lists the model with its prices;
- a non-streaming reply on a voucher for 0 returns a completion with `usage`;
- the next request without paying is a 402 whose `owed` is what this script computes itself from
  the usage and the prices; a voucher signed by another key is a 402 `voucher_refused`; a malformed
  header is a 400;
- a streamed reply (`stream_options.include_usage`) paid with the owed amount: deltas with text, the
  usage chunk (`choices: []`) last;
- a third reply pays for the second, and the assistant's account of the channel shows what was
  billed and accepted.

Any failed check raises; the message says what was expected and what came back.
"""

import json
import secrets
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

import openai
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

DEPOSIT = 10 * 10**18  # 10 AMT: far more than the few short replies below cost
EXPIRY_SECS = 7 * 24 * 3600  # well outside the ledger's safety margin


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def step(msg):
    print(f"openai-client: {msg}", flush=True)


# ------------------------------------------------------------------ HTTP and chain helpers


def get_json(url, path, expect=200):
    try:
        with urllib.request.urlopen(url + path, timeout=10) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    check(status == expect, f"GET {path}: expected {expect}, got {status}: {body[:500]!r}")
    return json.loads(body)


def cast(*args):
    out = subprocess.run(["cast", *args], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Failed(f"cast {' '.join(args[:2])} failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout.strip()


def send(rpc, key, to, sig, *args):
    receipt = json.loads(cast("send", "--json", "--rpc-url", rpc, "--private-key", key, to, sig, *args))
    check(receipt.get("status") in ("0x1", 1, "1"), f"{sig} reverted: {receipt}")
    return receipt


def channel_id(payer, payee, token, signer, salt, chain_id, contract):
    """keccak256(abi.encode(payer, payee, token, signer, salt, chainid, contract)), as the contract."""
    types = ["address", "address", "address", "address", "bytes32", "uint256", "address"]
    addr = to_checksum_address
    values = [addr(payer), addr(payee), addr(token), addr(signer), bytes.fromhex(salt[2:]), chain_id, addr(contract)]
    return "0x" + keccak(abi_encode(types, values)).hex().removeprefix("0x")


class Vouchers:
    """EIP-712 `Voucher(bytes32 channelId,uint256 cumulativeAmount)` under the PaymentChannel domain."""

    def __init__(self, chain_id, contract, channel):
        self.chain_id, self.contract, self.channel = chain_id, to_checksum_address(contract), channel

    def typed(self, amount):
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Voucher": [
                    {"name": "channelId", "type": "bytes32"},
                    {"name": "cumulativeAmount", "type": "uint256"},
                ],
            },
            "primaryType": "Voucher",
            "domain": {
                "name": "Agora PaymentChannel",
                "version": "1",
                "chainId": self.chain_id,
                "verifyingContract": self.contract,
            },
            "message": {"channelId": bytes.fromhex(self.channel[2:]), "cumulativeAmount": amount},
        }

    def signed(self, key, amount):
        return Account.sign_message(encode_typed_data(full_message=self.typed(amount)), key)

    def header(self, key, amount):
        sig = self.signed(key, amount).signature.hex()
        sig = sig if sig.startswith("0x") else "0x" + sig
        return {"Agora-Voucher": f"{self.channel}:{amount}:{sig}"}


def cost(usage, pricing):
    """ceil((prompt × promptPer1k + completion × completionPer1k) / 1000), one reply's price."""
    raw = usage.prompt_tokens * int(pricing["promptPer1k"]) + usage.completion_tokens * int(pricing["completionPer1k"])
    return -(-raw // 1000)


def payment_refusal(call, status, what):
    """Runs `call`, which must fail with an APIStatusError of `status`; returns its JSON body."""
    try:
        call()
    except openai.APIStatusError as e:
        body = e.response.json()
        check(e.status_code == status, f"{what}: expected HTTP {status}, got {e.status_code}: {body}")
        return e, body
    raise Failed(f"{what}: expected HTTP {status}, the request succeeded")


# ------------------------------------------------------------------ the test


def main(url, dev_json):
    with open(dev_json) as f:
        dev = json.load(f)
    rpc = dev["rpc_url"]
    buyer = dev["accounts"][dev["roles"]["first_buyer"]]
    buyer_key, buyer_addr = buyer["private_key"], buyer["address"].lower()

    terms = get_json(url, "/api/assistant/models")
    payee, chain_id, contract = terms["payee"], terms["chainId"], terms["channelContract"]
    model = terms["models"][0]
    model_id, pricing = model["id"], model["pricing"]
    token = pricing["token"]
    check(int(token, 16) != 0, f"the model is priced in ETH, expected MarketToken: {pricing}")
    step(f"model {model_id}, {pricing['promptPer1k']}/{pricing['completionPer1k']} per 1k tokens of {token}, payee {payee}")

    # ---- open a channel: approve MarketToken, open with a fresh session key as the signer
    session = Account.create()
    salt = "0x" + secrets.token_hex(32)
    expiry = int(time.time()) + EXPIRY_SECS
    send(rpc, buyer_key, token, "approve(address,uint256)", contract, str(DEPOSIT))
    send(rpc, buyer_key, contract, "open(address,address,uint256,uint64,bytes32,address)",
         payee, token, str(DEPOSIT), str(expiry), salt, session.address)
    channel = channel_id(buyer_addr, payee, token, session.address, salt, chain_id, contract)
    on_chain = cast("call", "--rpc-url", rpc, contract, "computeChannelId(address,address,address,address,bytes32)(bytes32)",
                    buyer_addr, payee, token, session.address, salt)
    check(on_chain.lower() == channel, f"channel id: computed {channel}, the contract says {on_chain}")
    vouchers = Vouchers(chain_id, contract, channel)
    digest = cast("call", "--rpc-url", rpc, contract, "hashVoucher(bytes32,uint256)(bytes32)", channel, "12345")
    mine = "0x" + bytes(vouchers.signed(session.key, 12345).message_hash).hex().removeprefix("0x")
    check(digest.lower() == mine, f"voucher digest: computed {mine}, the contract's hashVoucher says {digest}")
    step(f"opened channel {channel} ({DEPOSIT} deposited, session key {session.address})")

    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/channels/{channel}", timeout=10) as r:
                indexed = json.load(r)
            break
        except urllib.error.HTTPError as e:
            check(e.code == 404, f"GET /api/channels/{channel}: {e.code} {e.read()[:300]!r}")
        check(time.time() < deadline, f"channel {channel} not indexed within 60 s")
        time.sleep(0.2)
    check(indexed["state"] == "Open" and indexed["deposit"] == str(DEPOSIT)
          and indexed["signer"] == session.address.lower() and indexed["payer"] == buyer_addr,
          f"the indexed channel is not the one opened: {indexed}")
    step("channel indexed")

    # ---- the official client, paying with a voucher for 0
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=120,
                           default_headers=vouchers.header(session.key, 0))
    listed = {m.id: m for m in client.models.list()}
    check(model_id in listed, f"client.models.list() lacks {model_id}: {list(listed)}")
    extra = listed[model_id].model_extra or {}
    check(extra.get("pricing") == pricing, f"/v1/models pricing {extra.get('pricing')} != /api/assistant/models {pricing}")
    step(f"client.models.list(): {sorted(listed)}")

    messages = [{"role": "user", "content": "Say hello in one short sentence."}]
    raw = client.chat.completions.with_raw_response.create(model=model_id, messages=messages, max_tokens=16)
    first = raw.parse()
    check(first.object == "chat.completion", f"object {first.object!r}")
    check(first.usage is not None and first.usage.completion_tokens > 0 and first.usage.prompt_tokens > 0,
          f"the completion's usage: {first.usage}")
    check(first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens, f"usage {first.usage}")
    check(first.usage.completion_tokens <= 16, f"max_tokens=16, usage {first.usage}")
    check(len(first.choices) == 1 and first.choices[0].message.role == "assistant", f"choices {first.choices}")
    text1 = first.choices[0].message.content
    check(isinstance(text1, str) and text1 != "", f"empty reply: {first}")
    owed1 = cost(first.usage, pricing)
    check(owed1 > 0, f"a reply of {first.usage} costs nothing at {pricing}")
    check(raw.headers.get("agora-billed") == str(owed1), f"Agora-Billed {raw.headers.get('agora-billed')!r}, computed {owed1}")
    step(f"non-streaming reply {text1!r}, usage {first.usage.prompt_tokens}+{first.usage.completion_tokens}, owed {owed1}")

    # ---- unpaid: the same voucher for 0 again
    err, body = payment_refusal(lambda: client.chat.completions.create(model=model_id, messages=messages, max_tokens=16),
                                402, "a second request without paying")
    check(body.get("error", {}).get("type") == "payment_required", f"402 body {body}")
    check(body.get("owed") == str(owed1), f"402 says owed {body.get('owed')!r}, computed from the usage {owed1}")
    check(body.get("channelId") == channel, f"402 channelId {body.get('channelId')!r}")
    step(f"unpaid request refused: 402 {body['error']['code']}, owed {body['owed']}")

    # ---- forged: another key signs for the channel, for what is owed and for what is already accepted
    forger = Account.create()
    for amount in (owed1, 0):
        forged = client.with_options(default_headers=vouchers.header(forger.key, amount))
        err, body = payment_refusal(lambda: forged.chat.completions.create(model=model_id, messages=messages, max_tokens=16),
                                    402, f"a voucher for {amount} signed by another key")
        check(body.get("error", {}).get("code") == "voucher_refused", f"forged voucher for {amount}: {body}")
    step("forged vouchers refused: 402 voucher_refused")

    # ---- malformed headers
    for bad in ("nonsense", f"{channel}:0x10:0xab", f"{channel}:{owed1}"):
        malformed = client.with_options(default_headers={"Agora-Voucher": bad})
        err, body = payment_refusal(lambda: malformed.chat.completions.create(model=model_id, messages=messages, max_tokens=16),
                                    400, f"Agora-Voucher: {bad}")
        check(isinstance(err, openai.BadRequestError), f"{type(err).__name__} for a 400")
    step("malformed headers refused: 400")

    # ---- streamed, paying what the first reply cost
    paid = client.with_options(default_headers=vouchers.header(session.key, owed1))
    chunks = list(paid.chat.completions.create(
        model=model_id, messages=[{"role": "user", "content": "Name three colours."}], max_tokens=24,
        stream=True, stream_options={"include_usage": True}))
    check(len(chunks) >= 2, f"only {len(chunks)} chunks")
    last = chunks[-1]
    check(last.choices == [] and last.usage is not None, f"the last chunk is not the usage chunk: {last}")
    body_chunks = chunks[:-1]
    check(all(len(c.choices) == 1 for c in body_chunks), "a chunk before the usage chunk has no choice")
    check(all(c.usage is None for c in body_chunks), "usage before the last chunk")
    check(body_chunks[0].choices[0].delta.role == "assistant", f"first delta {body_chunks[0].choices[0].delta}")
    check(body_chunks[-1].choices[0].finish_reason in ("stop", "length"), f"finish {body_chunks[-1].choices[0]}")
    check(all(c.id == chunks[0].id and c.object == "chat.completion.chunk" for c in chunks), "chunk ids/objects differ")
    text2 = "".join(c.choices[0].delta.content or "" for c in body_chunks)
    check(text2 != "", "the streamed reply has no text")
    usage2 = last.usage
    check(0 < usage2.completion_tokens <= 24 and usage2.prompt_tokens > 0, f"streamed usage {usage2}")
    owed2 = owed1 + cost(usage2, pricing)
    step(f"streamed reply {text2!r} in {len(body_chunks)} chunks, usage {usage2.prompt_tokens}+{usage2.completion_tokens}, owed {owed2}")

    # ---- unpaid again, then a third reply that pays for the second
    err, body = payment_refusal(lambda: paid.chat.completions.create(model=model_id, messages=messages, max_tokens=8),
                                402, "a request paying only the first reply")
    check(body.get("owed") == str(owed2), f"402 says owed {body.get('owed')!r}, computed {owed2}")
    third = client.with_options(default_headers=vouchers.header(session.key, owed2)).chat.completions.create(
        model=model_id, messages=messages, max_tokens=8)
    check(third.usage is not None and third.choices[0].message.content, f"third reply {third}")
    owed3 = owed2 + cost(third.usage, pricing)

    account = get_json(url, f"/api/assistant/channels/{channel}")
    check(account["billed"] == str(owed3), f"account billed {account['billed']}, computed {owed3}")
    check(account["accepted"] == str(owed2), f"account accepted {account['accepted']}, paid {owed2}")
    replies = account["replies"]
    check(len(replies) == 3, f"{len(replies)} replies in the account, 3 sent")
    check(sorted(int(r["cost"]) for r in replies) == sorted([owed1, owed2 - owed1, owed3 - owed2]),
          f"reply costs {[r['cost'] for r in replies]}, computed {[owed1, owed2 - owed1, owed3 - owed2]}")
    indexed = get_json(url, f"/api/channels/{channel}")
    check(indexed["spent"] == str(owed2), f"/api/channels spent {indexed['spent']}, paid {owed2}")
    step(f"third reply paid {owed2}; account billed {owed3}, accepted {owed2}")
    step("PASS")


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2])
    except Failed as e:
        print(f"openai-client: FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        print("openai-client: FAIL with an exception from the client or the checks:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
