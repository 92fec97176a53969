// The FederatedMarket's refusals as sentences. The node's simulation decodes the errors of the
// contracts it knows; FederatedMarket's come back as "call reverted with unknown data 0x…", so the
// page decodes that data here against the contract's ABI (its custom errors carry the figures) and
// says it in the reader's language — never a hex blob.
import { decodeErrorResult, type Hex } from "viem";
import { federatedMarketAbi } from "./abi";
import { ApiError } from "./api";
import { FL_STATES } from "./fl";
import type { MessageKey, Vars } from "./i18n";

export interface FlRevert {
  name: string;
  args: Record<string, unknown>;
}

/// The revert data a failure carries, if any: the node's "unknown data 0x…" sentence.
export function revertDataOf(e: unknown): Hex | null {
  const message = e instanceof ApiError ? e.message : e instanceof Error ? e.message : "";
  const m = /unknown data (0x[0-9a-fA-F]{8,})/.exec(message);
  return m ? (m[1] as Hex) : null;
}

/// The FederatedMarket error `data` encodes, with its arguments by name; `null` when it is not one.
export function decodeFlRevert(data: Hex): FlRevert | null {
  try {
    const d = decodeErrorResult({ abi: federatedMarketAbi, data });
    const inputs = federatedMarketAbi.find((x) => x.type === "error" && x.name === d.errorName)?.inputs ?? [];
    const values = (d.args ?? []) as readonly unknown[];
    return { name: d.errorName, args: Object.fromEntries(inputs.map((input, i) => [input.name, values[i]])) };
  } catch {
    return null;
  }
}

/// Errors with a sentence of their own in the message files (`fl.error.<Name>`).
export const EXPLAINED = [
  "AlreadyMember",
  "NotMember",
  "WrongState",
  "DeadlinePassed",
  "InvalidBlockCount",
  "BlocksNotForSale",
  "AlreadyClaimed",
  "InvalidProof",
  "ClaimPeriodOver",
  "NothingToPay",
  "PredictionsNotOffered",
  "CannotCancelYet",
  "InvalidDeadlines",
  "ValueMismatch",
  "UnknownTask",
] as const;
type Explained = (typeof EXPLAINED)[number];

const text = (v: unknown) => (typeof v === "bigint" ? v.toString() : String(v));

/// The message key and its values for a decoded error: its own sentence, or the generic one naming
/// the error and its figures. `state` numbers become the state's name (`fl.state.*` keys).
export function revertMessage(r: FlRevert): { key: MessageKey; vars: Vars; stateKey?: MessageKey } {
  const vars: Vars = Object.fromEntries(Object.entries(r.args).map(([k, v]) => [k, text(v)]));
  const state = typeof r.args.state === "number" ? FL_STATES[r.args.state - 1] : undefined;
  if ((EXPLAINED as readonly string[]).includes(r.name)) {
    return { key: `fl.error.${r.name as Explained}`, vars, stateKey: state ? `fl.state.${state}` : undefined };
  }
  const figures = Object.entries(vars)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return { key: "fl.error.generic", vars: { name: r.name, figures } };
}

/// A failure's sentence when it is a FederatedMarket refusal, else `null` (the caller's usual text).
export function flRevertText(e: unknown, t: (key: MessageKey, vars?: Vars) => string): string | null {
  const data = revertDataOf(e);
  const decoded = data ? decodeFlRevert(data) : null;
  if (!decoded) return null;
  const { key, vars, stateKey } = revertMessage(decoded);
  return t("tx.wouldRevert", { message: t(key, stateKey ? { ...vars, stateName: t(stateKey) } : vars) });
}
