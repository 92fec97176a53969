// What this browser keeps about its assistant channels, in localStorage: each channel's session key
// (generated here; the contract's `signer`, so vouchers need no wallet prompt — the wallet's own key
// never leaves the wallet), the parameters needed to top up, extend and reclaim, every voucher it
// signed, and whether the channel is dead (closed or reclaimed: never pay it again). Plus the
// default channel per payer and the auto-pay choice.
import { isHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { recall, remember } from "./remember";

export interface SignedVoucher {
  requestId: string | null;
  /// The chunk it paid, when it paid one.
  seq: number | null;
  amount: string;
  signature: Hex;
  /// Milliseconds since the epoch.
  at: number;
}

export interface LocalChannel {
  id: Hex;
  chainId: number;
  payer: Hex;
  payee: Hex;
  token: Hex;
  salt: Hex;
  /// The session key's address (the contract's `signer`).
  signer: Hex;
  sessionKey: Hex;
  vouchers: SignedVoucher[];
  /// Closed or reclaimed on chain: the page never signs for it again.
  dead: boolean;
}

/// A simple key-value store (localStorage in the page, a map in tests).
export interface Store {
  get(key: string): string | null;
  set(key: string, value: string | null): void;
}

export const browserStore: Store = { get: recall, set: remember };

export function memoryStore(): Store & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: (k) => data.get(k) ?? null,
    set: (k, v) => (v === null ? data.delete(k) : data.set(k, v)),
  };
}

/// At most this many vouchers are kept per channel (the newest; the highest is always among them).
export const MAX_VOUCHERS = 500;

const channelKey = (chainId: number, id: string) => `agora.assistant.channel.${chainId}.${id.toLowerCase()}`;
const defaultKey = (chainId: number, payer: string) => `agora.assistant.default.${chainId}.${payer.toLowerCase()}`;
export const AUTOPAY_KEY = "agora.assistant.autopay";

/// A fresh session key and a random salt for a new channel.
export function freshSessionKey(): { sessionKey: Hex; signer: Hex; salt: Hex } {
  const sessionKey = generatePrivateKey();
  const salt = generatePrivateKey(); // 32 random bytes from the browser's CSPRNG
  return { sessionKey, signer: privateKeyToAccount(sessionKey).address, salt };
}

function parse(text: string | null): LocalChannel | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as LocalChannel;
    if (!v || !isHex(v.sessionKey) || !isHex(v.id) || !Array.isArray(v.vouchers)) return null;
    return v;
  } catch {
    return null;
  }
}

export function loadChannel(store: Store, chainId: number, id: string): LocalChannel | null {
  return parse(store.get(channelKey(chainId, id)));
}

export function saveChannel(store: Store, ch: LocalChannel): void {
  store.set(channelKey(ch.chainId, ch.id), JSON.stringify(ch));
}

/// Records a voucher this browser signed (kept in order of signing).
export function recordVoucher(store: Store, chainId: number, id: string, v: SignedVoucher): LocalChannel | null {
  const ch = loadChannel(store, chainId, id);
  if (!ch) return null;
  const vouchers = [...ch.vouchers, v].slice(-MAX_VOUCHERS);
  const next = { ...ch, vouchers };
  saveChannel(store, next);
  return next;
}

/// Marks a channel dead: closed or reclaimed on chain.
export function markDead(store: Store, chainId: number, id: string): void {
  const ch = loadChannel(store, chainId, id);
  if (ch && !ch.dead) saveChannel(store, { ...ch, dead: true });
}

/// The highest amount this browser signed on the channel (0 when none).
export function highestSigned(ch: LocalChannel | null): bigint {
  let max = 0n;
  for (const v of ch?.vouchers ?? []) {
    const a = BigInt(v.amount);
    if (a > max) max = a;
  }
  return max;
}

/// The highest voucher itself, to send again after a reconnect.
export function highestVoucher(ch: LocalChannel | null): SignedVoucher | null {
  let best: SignedVoucher | null = null;
  for (const v of ch?.vouchers ?? []) if (!best || BigInt(v.amount) > BigInt(best.amount)) best = v;
  return best;
}

export function defaultChannel(store: Store, chainId: number, payer: string): Hex | null {
  const v = store.get(defaultKey(chainId, payer));
  return v && isHex(v) ? v : null;
}

export function setDefaultChannel(store: Store, chainId: number, payer: string, id: string | null): void {
  store.set(defaultKey(chainId, payer), id);
}

/// Auto-pay is on unless the person turned it off.
export function autopayOn(store: Store): boolean {
  return store.get(AUTOPAY_KEY) !== "0";
}

export function setAutopay(store: Store, on: boolean): void {
  store.set(AUTOPAY_KEY, on ? "1" : "0");
}
