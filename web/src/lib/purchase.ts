// A purchase as the buyer follows it: the steps (approve when the allowance is short, simulate,
// the wallet prompt, the transaction being mined), each active, done or failed, and the one
// sentence shown when something fails.
import { ApiError } from "./api";
import type { MessageKey, Vars } from "./i18n";
import { TxRevertedError } from "./tx";
import { errorText, isUserRejection } from "./wallet";

export type StepId = "approve" | "simulate" | "wallet" | "sent";
export type StepState = "active" | "done" | "failed";

export interface Step {
  id: StepId;
  state: StepState;
  hash?: `0x${string}`;
  block?: bigint;
}

export interface PurchaseState {
  steps: Step[];
  busy: boolean;
  error: string | null;
  taskId: number | null;
}

export type PurchaseAction =
  | { type: "start" }
  | { type: "step"; id: StepId; state: StepState; hash?: `0x${string}`; block?: bigint }
  | { type: "created"; taskId: number }
  | { type: "failed"; error: string; step?: StepId };

export const idlePurchase: PurchaseState = { steps: [], busy: false, error: null, taskId: null };

function withStep(steps: Step[], id: StepId, state: StepState, extra: Partial<Step>): Step[] {
  const existing = steps.find((s) => s.id === id);
  const next: Step = { ...existing, ...extra, id, state };
  return existing ? steps.map((s) => (s.id === id ? next : s)) : [...steps, next];
}

export function purchaseReducer(state: PurchaseState, action: PurchaseAction): PurchaseState {
  switch (action.type) {
    case "start":
      return { steps: [], busy: true, error: null, taskId: null };
    case "step": {
      const extra: Partial<Step> = {};
      if (action.hash !== undefined) extra.hash = action.hash;
      if (action.block !== undefined) extra.block = action.block;
      return { ...state, steps: withStep(state.steps, action.id, action.state, extra) };
    }
    case "created":
      return { ...state, busy: false, taskId: action.taskId };
    case "failed":
      return {
        ...state,
        busy: false,
        error: action.error,
        steps: action.step ? withStep(state.steps, action.step, "failed", {}) : state.steps,
      };
  }
}

/// A failure as one sentence for the person buying (or claiming a refund).
export function purchaseErrorText(e: unknown, t: (key: MessageKey, vars?: Vars) => string): string {
  if (isUserRejection(e)) return t("tx.rejected");
  if (e instanceof ApiError && e.status === 422) return t("tx.wouldRevert", { message: e.message });
  if (e instanceof TxRevertedError) return t("tx.reverted", { hash: e.hash });
  return t("tx.failed", { message: errorText(e) });
}
