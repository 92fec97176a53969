// The payer's side of an assistant channel on chain (contracts/src/PaymentChannel.sol): the
// calls to open, top up, extend and reclaim, the allowance an ERC-20 channel needs, and the balances
// the panel shows. Closing is the payee's (the node settles); the payer's own exit is reclaiming the
// deposit once the channel has expired.
import { encodeFunctionData, type Hex } from "viem";
import type { Channel } from "./api";
import type { NetworkInfo } from "./api";
import { ETH_TOKEN, marketTokenAbi, paymentChannelAbi } from "./abi";
import type { Call } from "./tx";
import { publicClientFor } from "./wallet";

export interface ChannelParties {
  payee: Hex;
  token: Hex;
  signer: Hex;
  salt: Hex;
}

export const isEth = (token: string) => token.toLowerCase() === ETH_TOKEN;

export function openCall(contract: Hex, p: ChannelParties, amount: bigint, expiry: bigint): Call {
  return {
    to: contract,
    data: encodeFunctionData({
      abi: paymentChannelAbi,
      functionName: "open",
      args: [p.payee, p.token, amount, expiry, p.salt, p.signer],
    }),
    value: isEth(p.token) ? amount : 0n,
  };
}

export function topUpCall(contract: Hex, p: ChannelParties, amount: bigint): Call {
  return {
    to: contract,
    data: encodeFunctionData({
      abi: paymentChannelAbi,
      functionName: "topUp",
      args: [p.payee, p.token, p.signer, p.salt, amount],
    }),
    value: isEth(p.token) ? amount : 0n,
  };
}

export function extendCall(contract: Hex, p: ChannelParties, expiry: bigint): Call {
  return {
    to: contract,
    data: encodeFunctionData({ abi: paymentChannelAbi, functionName: "extend", args: [p.payee, p.token, p.signer, p.salt, expiry] }),
  };
}

export function reclaimCall(contract: Hex, p: ChannelParties): Call {
  return {
    to: contract,
    data: encodeFunctionData({ abi: paymentChannelAbi, functionName: "reclaim", args: [p.payee, p.token, p.signer, p.salt] }),
  };
}

/// What `spender` may take of `owner`'s `token`.
export async function allowanceOf(net: NetworkInfo, token: Hex, owner: Hex, spender: Hex): Promise<bigint> {
  return publicClientFor(net).readContract({ address: token, abi: marketTokenAbi, functionName: "allowance", args: [owner, spender] });
}

/// The chain's clock (the latest block's timestamp): expiry is measured on it, not the browser's.
export async function chainNow(net: NetworkInfo): Promise<bigint> {
  const block = await publicClientFor(net).getBlock({ blockTag: "latest" });
  return block.timestamp;
}

/// The expiry `seconds` after `from` (the later of the chain's clock and the current expiry, so an
/// extension always moves it later).
export function expiryAfter(from: bigint, seconds: number): bigint {
  return from + BigInt(Math.max(1, Math.floor(seconds)));
}

/// A channel's balances as the panel shows them: `spent` is what the ledger accepted (the highest
/// voucher, what the node can settle for), `billed` what was delivered, `remaining` what the deposit
/// can still pay for.
export interface ChannelBalances {
  deposit: bigint;
  accepted: bigint;
  billed: bigint;
  remaining: bigint;
  /// Billed but not yet paid (at most one chunk, or one reply over the OpenAI API).
  unpaid: bigint;
}

export function channelBalances(deposit: bigint, billed: bigint, accepted: bigint): ChannelBalances {
  const b = billed > accepted ? billed : accepted;
  return { deposit, accepted, billed: b, remaining: deposit > b ? deposit - b : 0n, unpaid: b - accepted };
}

/// The smallest top-up that lets a reply costing at most `need` more start (`deposit_spent` says
/// `owed`, the amount the channel must cover): `owed − deposit`, at least 1.
export function topUpNeeded(owed: bigint, deposit: bigint): bigint {
  return owed > deposit ? owed - deposit : 1n;
}

/// The panel's view of whether the channel can pay: open and not past its expiry.
export function canPay(ch: Pick<Channel, "state">): boolean {
  return ch.state === "Open";
}

/// The payer may take the deposit back: expired and still open on chain.
export function canReclaim(ch: Pick<Channel, "state" | "expiry">, now: number): boolean {
  return ch.state === "Expired" || (ch.state === "Open" && ch.expiry <= now);
}

/// Parses an amount typed by a person (`1.5`) into the smallest unit with `decimals` places; `null`
/// for anything that is not a positive amount with at most `decimals` fraction digits.
export function parseAmountInput(text: string, decimals: number): bigint | null {
  const s = text.trim().replace(/,/g, "");
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (!m[1] && !m[2])) return null;
  const frac = m[2] ?? "";
  if (frac.length > decimals) return null;
  const v = BigInt(m[1] || "0") * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
  return v > 0n ? v : null;
}

/// An amount in the smallest unit as a person would type it back (`1.5`), no grouping.
export function amountInputText(value: bigint, decimals: number): string {
  const base = 10n ** BigInt(decimals);
  const frac = (value % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  return frac ? `${value / base}.${frac}` : `${value / base}`;
}
