import { concat, encodeAbiParameters, keccak256, recoverTypedDataAddress, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { channelIdOf, checkBase, checkChunk, checkOwed, signVoucher, voucherDigest, voucherTypedData } from "./voucher";

const KEY: Hex = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const domain = { chainId: 31337, contract: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as Hex };
const CHANNEL: Hex = `0x${"ab".repeat(32)}`;

describe("the voucher", () => {
  it("hashes exactly as PaymentChannel._hashVoucher", () => {
    const typeHash = keccak256(toHex("Voucher(bytes32 channelId,uint256 cumulativeAmount)"));
    const domainSeparator = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }],
        [
          keccak256(toHex("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")),
          keccak256(toHex("Agora PaymentChannel")),
          keccak256(toHex("1")),
          31337n,
          domain.contract,
        ],
      ),
    );
    const structHash = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }], [typeHash, CHANNEL, 1234n]));
    expect(voucherDigest(domain, CHANNEL, 1234n)).toBe(keccak256(concat(["0x1901", domainSeparator, structHash])));
  });

  it("is signed by the session key, 65 bytes with a low s", async () => {
    const sig = await signVoucher(KEY, domain, CHANNEL, 1234n);
    expect(sig).toMatch(/^0x[0-9a-f]{130}$/);
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    expect(s <= 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n).toBe(true);
    const signer = await recoverTypedDataAddress({ ...voucherTypedData(domain, CHANNEL, 1234n), signature: sig });
    expect(signer).toBe(privateKeyToAccount(KEY).address);
    // another amount, another chain: another digest
    expect(voucherDigest(domain, CHANNEL, 1235n)).not.toBe(voucherDigest(domain, CHANNEL, 1234n));
    expect(voucherDigest({ ...domain, chainId: 1 }, CHANNEL, 1234n)).not.toBe(voucherDigest(domain, CHANNEL, 1234n));
  });

  it("names its channel as the contract does", () => {
    const parties = {
      payer: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266" as Hex,
      payee: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Hex,
      token: "0x0000000000000000000000000000000000000000" as Hex,
      signer: privateKeyToAccount(KEY).address,
      salt: `0x${"01".repeat(32)}` as Hex,
    };
    const id = channelIdOf(parties, domain);
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    for (const change of [{ salt: `0x${"02".repeat(32)}` as Hex }, { signer: parties.payer }, { payee: parties.payer }, { token: parties.payer }]) {
      expect(channelIdOf({ ...parties, ...change }, domain)).not.toBe(id);
    }
    expect(channelIdOf(parties, { ...domain, chainId: 1 })).not.toBe(id);
  });
});

describe("checks before signing a chunk", () => {
  // 20 prompt tokens at 1000/1k, completions at 3000/1k; the reply starts at base 100
  const terms = { base: 100n, promptTokens: 20, prices: { promptPer1k: 1000n, completionPer1k: 3000n } };
  const channel = { deposit: 1000n, highestSigned: 100n, closed: false };

  it("signs exactly base + cost(p, c)", () => {
    // cost(20, 5) = ceil((20000 + 15000) / 1000) = 35
    expect(checkChunk(terms, { completionTokens: 5, cost: 35n, cumulative: 135n }, channel)).toEqual({ ok: true, amount: 135n });
  });

  it("refuses an amount below what was signed before", () => {
    const r = checkChunk(terms, { completionTokens: 5, cost: 35n, cumulative: 135n }, { ...channel, highestSigned: 140n });
    expect(r).toMatchObject({ ok: false, reason: "decreasing", amount: 135n, highestSigned: 140n });
  });

  it("refuses an increment that is not the price", () => {
    // one unit too much
    expect(checkChunk(terms, { completionTokens: 5, cost: 36n, cumulative: 136n }, channel)).toMatchObject({
      ok: false,
      reason: "price_mismatch",
      expected: 135n,
    });
    // the right cost but a cumulative off the base
    expect(checkChunk(terms, { completionTokens: 5, cost: 35n, cumulative: 134n }, channel)).toMatchObject({ ok: false, reason: "price_mismatch" });
    // charging for more tokens than the chunks carried
    expect(checkChunk(terms, { completionTokens: 5, cost: 38n, cumulative: 138n }, channel)).toMatchObject({ ok: false, reason: "price_mismatch" });
  });

  it("refuses to go over the deposit", () => {
    const r = checkChunk(terms, { completionTokens: 5, cost: 35n, cumulative: 135n }, { ...channel, deposit: 134n });
    expect(r).toMatchObject({ ok: false, reason: "over_deposit", amount: 135n, deposit: 134n });
    expect(checkChunk(terms, { completionTokens: 5, cost: 35n, cumulative: 135n }, { ...channel, deposit: 135n }).ok).toBe(true);
  });

  it("never pays a closed channel", () => {
    expect(checkChunk(terms, { completionTokens: 5, cost: 35n, cumulative: 135n }, { ...channel, closed: true })).toEqual({
      ok: false,
      reason: "channel_closed",
    });
  });

  it("holds a reply's base to what this browser paid", () => {
    expect(checkBase(100n, channel, true).ok).toBe(true);
    expect(checkBase(99n, channel, true)).toMatchObject({ ok: false, reason: "decreasing" });
    expect(checkBase(101n, channel, true)).toMatchObject({ ok: false, reason: "price_mismatch", expected: 100n });
    expect(checkBase(101n, { ...channel, highestSigned: 0n }, false).ok).toBe(true);
    expect(checkBase(1001n, { ...channel, highestSigned: 0n }, false)).toMatchObject({ ok: false, reason: "over_deposit" });
  });

  it("pays what is owed only when the node's account agrees", () => {
    expect(checkOwed(150n, channel, 150n).ok).toBe(true);
    expect(checkOwed(150n, channel, null).ok).toBe(true);
    expect(checkOwed(150n, channel, 140n)).toMatchObject({ ok: false, reason: "price_mismatch" });
    expect(checkOwed(90n, channel, 90n)).toMatchObject({ ok: false, reason: "decreasing" });
    expect(checkOwed(1500n, channel, 1500n)).toMatchObject({ ok: false, reason: "over_deposit" });
  });
});
