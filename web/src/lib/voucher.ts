// Vouchers for the assistant: the EIP-712 `Voucher(bytes32 channelId,uint256 cumulativeAmount)`
// under the PaymentChannel domain (crates/channels/src/voucher.rs, contracts/src/PaymentChannel.sol:
// name "Agora PaymentChannel", version "1", the chain id, the contract), signed in the page by the
// channel's session key — never by the wallet. Before anything is signed, `checkChunk` holds the
// node to the price it announced: the amount never goes down, each chunk's amount is exactly
// base + cost(p, c), and it never passes the deposit. A chunk that fails is not paid.
import { encodeAbiParameters, hashTypedData, keccak256, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { replyCost, type Prices } from "./pricing";

export const VOUCHER_DOMAIN_NAME = "Agora PaymentChannel";
export const VOUCHER_DOMAIN_VERSION = "1";

export const VOUCHER_TYPES = {
  Voucher: [
    { name: "channelId", type: "bytes32" },
    { name: "cumulativeAmount", type: "uint256" },
  ],
} as const;

export interface VoucherDomain {
  chainId: number;
  /// The PaymentChannel contract.
  contract: Hex;
}

export function voucherTypedData(domain: VoucherDomain, channelId: Hex, amount: bigint) {
  return {
    domain: {
      name: VOUCHER_DOMAIN_NAME,
      version: VOUCHER_DOMAIN_VERSION,
      chainId: domain.chainId,
      verifyingContract: domain.contract,
    },
    types: VOUCHER_TYPES,
    primaryType: "Voucher" as const,
    message: { channelId, cumulativeAmount: amount },
  };
}

/// The digest the contract's `hashVoucher` returns.
export function voucherDigest(domain: VoucherDomain, channelId: Hex, amount: bigint): Hex {
  return hashTypedData(voucherTypedData(domain, channelId, amount));
}

/// A 65-byte `r || s || v` signature by the session key (viem signs with a low `s`, as the
/// contract and the ledger require).
export async function signVoucher(sessionKey: Hex, domain: VoucherDomain, channelId: Hex, amount: bigint): Promise<Hex> {
  return privateKeyToAccount(sessionKey).signTypedData(voucherTypedData(domain, channelId, amount));
}

/// `keccak256(abi.encode(payer, payee, token, signer, salt, chainid, contract))`, the contract's
/// channel id, so the page knows the id (and stores the session key under it) before it opens.
export function channelIdOf(
  p: { payer: Hex; payee: Hex; token: Hex; signer: Hex; salt: Hex },
  domain: VoucherDomain,
): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "address" },
        { type: "address" },
        { type: "address" },
        { type: "address" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "address" },
      ],
      [p.payer, p.payee, p.token, p.signer, p.salt, BigInt(domain.chainId), domain.contract],
    ),
  );
}

// ---------------------------------------------------------------- checks before signing

/// What the page knows of a reply when a chunk arrives.
export interface ReplyTerms {
  /// The channel's billed amount before the reply (`started.base`).
  base: bigint;
  /// Prompt tokens the node counted (`started.promptTokens`).
  promptTokens: number;
  /// The prices the page sent with `start`.
  prices: Prices;
}

export interface ChunkFacts {
  /// Completion tokens of the reply up to and including this chunk.
  completionTokens: number;
  /// The reply's cost so far, as the node says.
  cost: bigint;
  /// The amount to sign, as the node says.
  cumulative: bigint;
}

export interface ChannelFacts {
  /// The channel's deposit.
  deposit: bigint;
  /// The highest amount this browser signed on the channel (0 if none).
  highestSigned: bigint;
  /// The channel was closed or reclaimed: never pay it again.
  closed: boolean;
}

export type Refusal =
  | { reason: "channel_closed" }
  | { reason: "decreasing"; amount: bigint; highestSigned: bigint }
  | { reason: "price_mismatch"; amount: bigint; expected: bigint }
  | { reason: "over_deposit"; amount: bigint; deposit: bigint }
  /// A chunk before the reply's terms (`started`), or after a gap in `seq`.
  | { reason: "out_of_order"; seq: number; expected: number };

export type Check = { ok: true; amount: bigint } | ({ ok: false } & Refusal);

/// The refusal a failed check carries, without its `ok`.
export function refusalOf(check: { ok: false } & Refusal): Refusal {
  const { ok, ...refusal } = check;
  void ok;
  return refusal as Refusal;
}

/// Whether the page may sign `cumulative` for a chunk: the only amount it signs is
/// base + cost(promptTokens, completionTokens so far), never below what it signed before on the
/// channel, never above the deposit.
export function checkChunk(terms: ReplyTerms, chunk: ChunkFacts, channel: ChannelFacts): Check {
  if (channel.closed) return { ok: false, reason: "channel_closed" };
  if (chunk.cumulative < channel.highestSigned) {
    return { ok: false, reason: "decreasing", amount: chunk.cumulative, highestSigned: channel.highestSigned };
  }
  const cost = replyCost(terms.promptTokens, chunk.completionTokens, terms.prices);
  const expected = terms.base + cost;
  if (chunk.cost !== cost || chunk.cumulative !== expected) {
    return { ok: false, reason: "price_mismatch", amount: chunk.cumulative, expected };
  }
  if (chunk.cumulative > channel.deposit) {
    return { ok: false, reason: "over_deposit", amount: chunk.cumulative, deposit: channel.deposit };
  }
  return { ok: true, amount: chunk.cumulative };
}

/// Whether the page may sign `amount` that the node says the channel owes (error `owed`, or a
/// start's voucher): not below what was signed, not above the deposit, and equal to what the node's
/// account says it billed when the page has read it.
export function checkOwed(amount: bigint, channel: ChannelFacts, billed: bigint | null): Check {
  if (channel.closed) return { ok: false, reason: "channel_closed" };
  if (amount < channel.highestSigned) {
    return { ok: false, reason: "decreasing", amount, highestSigned: channel.highestSigned };
  }
  if (billed !== null && amount !== billed) return { ok: false, reason: "price_mismatch", amount, expected: billed };
  if (amount > channel.deposit) return { ok: false, reason: "over_deposit", amount, deposit: channel.deposit };
  return { ok: true, amount };
}

/// A reply's `base` is what the channel was billed before it, which (a reply starts only when billed
/// = accepted) is the highest voucher signed for it. A base below what this browser signed would
/// bill the channel less than it paid (harmless to the payer, but the node is confused: refused so
/// that every amount signed stays increasing); a base above it charges for something never
/// delivered here, unless this browser has no record (storage cleared), when the node's word is all
/// there is.
export function checkBase(base: bigint, channel: ChannelFacts, hasRecord: boolean): Check {
  if (channel.closed) return { ok: false, reason: "channel_closed" };
  if (base < channel.highestSigned) return { ok: false, reason: "decreasing", amount: base, highestSigned: channel.highestSigned };
  if (hasRecord && base !== channel.highestSigned) {
    return { ok: false, reason: "price_mismatch", amount: base, expected: channel.highestSigned };
  }
  if (base > channel.deposit) return { ok: false, reason: "over_deposit", amount: base, deposit: channel.deposit };
  return { ok: true, amount: base };
}
