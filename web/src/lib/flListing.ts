// Listing a finished federated model on the compute market: what the node says to send
// (`GET /api/fl/tasks/{id}/listing`), the `listService` call built from it, the terms a person
// types checked first, and the new service's id from the receipt. Only a reward-pool task's
// investor may list (the node runs no other account's listing); shareholding models are paid per
// prediction through FederatedMarket instead and have no listing (409).
import { decodeEventLog, encodeFunctionData, type Hex, type TransactionReceipt } from "viem";
import { computeMarketAbi } from "./abi";
import { ApiError, errorFromBody } from "./api";
import { parseAmountInput } from "./channels";

/// A compute-market service already listed with this model.
export interface ListedService {
  id: number;
  provider: Hex;
  /// The node runs its jobs: its provider is the investor.
  runs: boolean;
  active: boolean;
}

/// What the investor sends to list the model.
export interface ModelListing {
  taskId: number;
  computeMarket: Hex;
  investor: Hex;
  /// The suggested payment token: the task's own.
  token: Hex;
  metadataUri: string;
  listed: ListedService[];
}

/// The longest run a service may promise (the market's MAX_RUN_TIME: 365 days).
export const MAX_RUN_TIME = 365 * 86_400;
/// The highest price the market takes (it is stored in 96 bits).
const MAX_PRICE = (1n << 96n) - 1n;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function address(v: unknown, name: string): Hex {
  if (typeof v !== "string" || !ADDRESS.test(v)) throw new Error(`${name} is not an address`);
  return v.toLowerCase() as Hex;
}

/// Reads the node's answer; throws on anything malformed.
export function parseListing(raw: unknown): ModelListing {
  const o = (raw ?? {}) as Record<string, unknown>;
  if (typeof o.taskId !== "number" || typeof o.metadataUri !== "string" || !Array.isArray(o.listed)) {
    throw new Error("not a model listing");
  }
  return {
    taskId: o.taskId,
    computeMarket: address(o.computeMarket, "computeMarket"),
    investor: address(o.investor, "investor"),
    token: address(o.token, "token"),
    metadataUri: o.metadataUri,
    listed: o.listed.map((l: unknown) => {
      const s = (l ?? {}) as Record<string, unknown>;
      if (typeof s.id !== "number") throw new Error("a listed service has no id");
      return { id: s.id, provider: address(s.provider, "provider"), runs: s.runs === true, active: s.active === true };
    }),
  };
}

/// The node's listing of task `id`'s model; `null` when the model may not be listed (409).
export async function fetchListing(id: number): Promise<ModelListing | null> {
  const res = await fetch(`/api/fl/tasks/${id}/listing`, { credentials: "same-origin" });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.status === 409) return null;
  if (!res.ok) throw errorFromBody(res.status, body ?? { message: text.slice(0, 200) });
  try {
    return parseListing(body);
  } catch (e) {
    throw new ApiError(res.status, "bad_answer", e instanceof Error ? e.message : String(e));
  }
}

/// The terms a person typed, read: a price (in whole tokens, `decimals` places) and a run time.
export type TermsCheck = { ok: true; price: bigint; maxRunTime: number } | { ok: false; problem: "price" | "runTime" };

export function readTerms(priceText: string, runTimeText: string, decimals: number): TermsCheck {
  const price = parseAmountInput(priceText, decimals);
  if (price === null || price > MAX_PRICE) return { ok: false, problem: "price" };
  const runTime = Number(runTimeText.trim());
  if (!Number.isInteger(runTime) || runTime < 1 || runTime > MAX_RUN_TIME) return { ok: false, problem: "runTime" };
  return { ok: true, price, maxRunTime: runTime };
}

/// The `listService` transaction for `listing` at these terms.
export function listServiceCall(listing: ModelListing, price: bigint, maxRunTime: number): { to: Hex; data: Hex } {
  return {
    to: listing.computeMarket,
    data: encodeFunctionData({
      abi: computeMarketAbi,
      functionName: "listService",
      args: [listing.token, price, BigInt(maxRunTime), listing.metadataUri],
    }),
  };
}

/// The id of the service a `listService` receipt listed, from its `ServiceListed` log.
export function serviceIdFromReceipt(market: Hex, receipt: TransactionReceipt): number {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== market.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: computeMarketAbi, data: log.data, topics: log.topics });
      if (ev.eventName === "ServiceListed") return Number(ev.args.serviceId);
    } catch {
      // another event of the market
    }
  }
  throw new Error(`no ServiceListed event in transaction ${receipt.transactionHash}`);
}

/// The services the node runs for this model (those of the investor), newest first.
export function runningServices(listing: ModelListing): ListedService[] {
  return listing.listed.filter((s) => s.runs && s.active).reverse();
}
