// Predictions paid by a voucher on a payment channel to the node's fee receiver
// (`POST /api/fl/tasks/{id}/predict` with `voucher`; docs/fl-market-contract.md): where fees are
// paid (`/api/fl/fees`), what a channel was billed (`/api/fl/channels/{id}/predictions`), the
// amount the next voucher must carry, checked before the session key signs it.
import type { Hex } from "viem";
import { errorFromBody, ApiError } from "./api";

export interface FeeTerms {
  feeReceiver: Hex;
  chainId: number;
  channelContract: Hex;
}

export interface ChannelAccount {
  billed: bigint;
  accepted: bigint;
}

/// The answer to a prediction paid by a voucher.
export interface VoucherPrediction {
  requestId: string;
  class: number;
  label: string;
  confidence: number;
  probabilities: number[];
  payment: { channelId: Hex; fee: bigint; cumulative: bigint; charged: boolean };
}

/// A prediction's voucher: its amount, its signature and the idempotency key it is sent with (kept
/// to ask again without paying again).
export interface PaidVoucher {
  channelId: Hex;
  amount: bigint;
  signature: Hex;
  key: string;
}

export type AmountCheck =
  | { ok: true; amount: bigint }
  | { ok: false; reason: "decreasing"; amount: bigint; signed: bigint }
  | { ok: false; reason: "deposit"; amount: bigint; deposit: bigint };

/// The voucher a prediction needs: the channel's billed total plus the fee, never at or below what
/// this browser signed on the channel before (the node would refuse it as stale) and never above
/// the deposit.
export function nextVoucherAmount(billed: bigint, fee: bigint, signed: bigint, deposit: bigint): AmountCheck {
  const amount = billed + fee;
  if (amount <= signed) return { ok: false, reason: "decreasing", amount, signed };
  if (amount > deposit) return { ok: false, reason: "deposit", amount, deposit };
  return { ok: true, amount };
}

async function fetchJson(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch (e) {
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw errorFromBody(res.status, body ?? { message: text.slice(0, 200) });
  if (!body || typeof body !== "object") throw new ApiError(res.status, "bad_answer", `not JSON: ${text.slice(0, 80)}`);
  return body as Record<string, unknown>;
}

const big = (v: unknown, name: string): bigint => {
  if (typeof v !== "string" || !/^[0-9]+$/.test(v)) throw new ApiError(200, "bad_answer", `${name} is not an amount`);
  return BigInt(v);
};

export const flVoucherApi = {
  terms: async (): Promise<FeeTerms> => {
    const b = await fetchJson("/api/fl/fees");
    return { feeReceiver: b.feeReceiver as Hex, chainId: Number(b.chainId), channelContract: b.channelContract as Hex };
  },
  account: async (channelId: Hex): Promise<ChannelAccount> => {
    const b = await fetchJson(`/api/fl/channels/${channelId}/predictions`);
    return { billed: big(b.billed, "billed"), accepted: big(b.accepted, "accepted") };
  },
  predict: async (taskId: number, pixelsBase64: string, v: PaidVoucher): Promise<VoucherPrediction> => {
    const b = await fetchJson(`/api/fl/tasks/${taskId}/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        pixels: pixelsBase64,
        voucher: { channelId: v.channelId, cumulativeAmount: v.amount.toString(), signature: v.signature, key: v.key },
      }),
    });
    const p = (b.payment ?? {}) as Record<string, unknown>;
    return {
      requestId: String(b.requestId),
      class: Number(b.class),
      label: String(b.label),
      confidence: Number(b.confidence),
      probabilities: Array.isArray(b.probabilities) ? b.probabilities.map(Number) : [],
      payment: { channelId: p.channelId as Hex, fee: big(p.fee, "fee"), cumulative: big(p.cumulative, "cumulative"), charged: p.charged === true },
    };
  },
};

/// A fresh idempotency key: 128 random bits in hex.
export function freshKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
