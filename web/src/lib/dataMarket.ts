// The buyer's side of the data market on chain (contracts/src/DataMarket.sol) and in this browser:
// the calls (openOrder escrowing the menu's price — ETH as the value, a token approved first —,
// settle, rate), what the browser keeps per order to resume it (the session key that signs its
// ACKs, the terms, the escrow transaction, the last ACK), and the order states the page acts on.
import { encodeFunctionData, type Hex } from "viem";
import type { DataOrder, DataSeller } from "./api";
import { dataMarketAbi, ETH_TOKEN } from "./abi";
import { commentHash, type Order, type SignedAck } from "./datastream";
import type { Store } from "./sessionKeys";
import type { Call } from "./tx";

/// `IDataMarket.PaymentMethod.Escrow`.
export const ESCROW = 0;

/// How long an order runs before anyone may settle it (the seller ends it as soon as the transfer
/// ends; this only bounds an order whose seller vanished).
export const ORDER_SECONDS = 3600;

export const isEthToken = (token: string) => token.toLowerCase() === ETH_TOKEN;

/// `openOrder(seller, token, price, totalBytes, deadline, startedFrom, nonce, ackSigner, Escrow)`,
/// with the price as the value for ETH.
export function openOrderCall(market: Hex, o: Order): Call {
  return {
    to: market,
    data: encodeFunctionData({
      abi: dataMarketAbi,
      functionName: "openOrder",
      args: [o.seller, o.token, o.price, BigInt(o.size), BigInt(o.deadline), BigInt(o.startedFrom), o.nonce, o.ackSigner, ESCROW],
    }),
    value: isEthToken(o.token) ? o.price : 0n,
  };
}

export function settleCall(market: Hex, orderId: Hex): Call {
  return { to: market, data: encodeFunctionData({ abi: dataMarketAbi, functionName: "settle", args: [orderId] }) };
}

/// `rate(orderId, score, keccak256(comment))`.
export function rateCall(market: Hex, orderId: Hex, score: number, comment: string): Call {
  return { to: market, data: encodeFunctionData({ abi: dataMarketAbi, functionName: "rate", args: [orderId, score, commentHash(comment)] }) };
}

/// A nonce for a new order: 32 random bytes (a collision is refused on chain; pick again).
export function randomNonce(): bigint {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return BigInt(`0x${[...b].map((x) => x.toString(16).padStart(2, "0")).join("")}`);
}

// ---------------------------------------------------------------- order states

const FINISHED = ["Settled", "Paid", "Expired"] as const;

/// Settled, Paid or Expired: each party may rate the other once.
export function isFinished(o: Pick<DataOrder, "state">): boolean {
  return (FINISHED as readonly string[]).includes(o.state);
}

/// Anyone may settle an ended order once its window has passed (`settleAt`, chain time).
export function canSettle(o: Pick<DataOrder, "state" | "settleAt">, chainNow: number): boolean {
  return o.state === "Ending" && o.settleAt != null && chainNow >= o.settleAt;
}

/// The buyer may rate: the order is finished and this browser has not rated it yet (the API lists
/// the ratings given).
export function canRate(o: Pick<DataOrder, "state">, ratedAlready: boolean): boolean {
  return isFinished(o) && !ratedAlready;
}

/// A seller's mean score with one decimal, from integers (`scoreSum / count`); `null` unrated.
export function averageScore(r: DataSeller["rating"]): string | null {
  if (!r.count) return null;
  const tenths = Math.round((r.scoreSum * 10) / r.count);
  return `${Math.floor(tenths / 10)}.${tenths % 10}`;
}

/// Bytes per second over a window of (time ms, bytes) samples: the rate a person reads.
export function rateOf(samples: readonly { t: number; bytes: number }[]): number {
  if (samples.length < 2) return 0;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const dt = last.t - first.t;
  return dt > 0 ? ((last.bytes - first.bytes) * 1000) / dt : 0;
}

/// `1.5 MB/s` (decimal megabytes, one decimal; rates are not money, a float is fine).
export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond >= 1e7 ? 0 : 1)} MB/s`;
}

/// `3.0 MiB`, `12.5 KiB`, `17 B`.
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

// ---------------------------------------------------------------- what the browser keeps

/// One order as this browser keeps it: enough to resume it after a cut (the bytes themselves live
/// in the page's memory; a reload starts the item over only if the seller allows it).
export interface LocalOrder {
  chainId: number;
  market: Hex;
  /// The seller's endpoint and message key from the registry.
  endpoint: string;
  sellerKey: Hex;
  /// The order's ACK signer and message key: generated in this browser, never sent anywhere.
  sessionKey: Hex;
  order: Order;
  escrowTx: Hex | null;
  lastAck: SignedAck | null;
  /// The rating sent with `exit` (and offered for the on-chain rating).
  rating: { score: number; comment: string } | null;
  /// The buyer rated the seller on chain.
  ratedOnChain: boolean;
}

const orderKey = (chainId: number, id: string) => `agora.data.order.${chainId}.${id.toLowerCase()}`;

type Json = { [k: string]: unknown };

function toJson(o: LocalOrder): Json {
  return {
    ...o,
    order: { ...o.order, nonce: o.order.nonce.toString(), price: o.order.price.toString() },
  };
}

function fromJson(text: string | null): LocalOrder | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as Json & { order: Json };
    if (!v || typeof v.sessionKey !== "string" || !v.order || typeof v.order.orderId !== "string") return null;
    return {
      ...(v as unknown as LocalOrder),
      order: { ...(v.order as unknown as Order), nonce: BigInt(v.order.nonce as string), price: BigInt(v.order.price as string) },
    };
  } catch {
    return null;
  }
}

export function saveOrder(store: Store, o: LocalOrder): void {
  store.set(orderKey(o.chainId, o.order.orderId), JSON.stringify(toJson(o)));
}

export function loadOrder(store: Store, chainId: number, orderId: string): LocalOrder | null {
  return fromJson(store.get(orderKey(chainId, orderId)));
}

/// Records a new ACK (only a higher one: an ACK never goes down) and returns the record.
export function recordAck(store: Store, chainId: number, ack: SignedAck): LocalOrder | null {
  const o = loadOrder(store, chainId, ack.orderId);
  if (!o) return null;
  if (o.lastAck && o.lastAck.received >= ack.received) return o;
  const next = { ...o, lastAck: ack };
  saveOrder(store, next);
  return next;
}
