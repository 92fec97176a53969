import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { idlePurchase, purchaseErrorText, purchaseReducer, type PurchaseAction, type PurchaseState } from "./purchase";
import { TxRevertedError } from "./tx";

const run = (actions: PurchaseAction[], from: PurchaseState = idlePurchase) => actions.reduce(purchaseReducer, from);
const HASH = `0x${"ab".repeat(32)}` as const;

describe("purchase steps", () => {
  it("go approve → simulate → wallet → sent, keeping each step's hash and block", () => {
    const s = run([
      { type: "start" },
      { type: "step", id: "approve", state: "active" },
      { type: "step", id: "approve", state: "active", hash: HASH },
      { type: "step", id: "approve", state: "done", block: 7n },
      { type: "step", id: "simulate", state: "active" },
      { type: "step", id: "simulate", state: "done" },
      { type: "step", id: "wallet", state: "active" },
      { type: "step", id: "wallet", state: "done" },
      { type: "step", id: "sent", state: "active", hash: HASH },
      { type: "step", id: "sent", state: "done", block: 9n },
      { type: "created", taskId: 4 },
    ]);
    expect(s.steps).toEqual([
      { id: "approve", state: "done", hash: HASH, block: 7n },
      { id: "simulate", state: "done" },
      { id: "wallet", state: "done" },
      { id: "sent", state: "done", hash: HASH, block: 9n },
    ]);
    expect(s.busy).toBe(false);
    expect(s.taskId).toBe(4);
  });
  it("mark the step that failed, even one not yet shown, and stop", () => {
    const s = run([
      { type: "start" },
      { type: "step", id: "simulate", state: "active" },
      { type: "failed", step: "simulate", error: "would revert" },
    ]);
    expect(s.steps).toEqual([{ id: "simulate", state: "failed" }]);
    expect(s).toMatchObject({ busy: false, error: "would revert", taskId: null });
    expect(run([{ type: "start" }, { type: "failed", step: "approve", error: "x" }]).steps).toEqual([
      { id: "approve", state: "failed" },
    ]);
  });
  it("start afresh on a retry, and show an input problem without touching the steps", () => {
    const failed = run([{ type: "start" }, { type: "failed", step: "wallet", error: "rejected" }]);
    expect(run([{ type: "failed", error: "draw first" }], failed).steps).toEqual(failed.steps);
    expect(run([{ type: "start" }], failed)).toEqual({ steps: [], busy: true, error: null, taskId: null });
  });
});

describe("purchase errors", () => {
  const t = (key: string, vars?: Record<string, string | number>) => `${key} ${JSON.stringify(vars ?? {})}`;
  it("say what happened in one sentence", () => {
    expect(purchaseErrorText({ code: 4001, message: "User rejected" }, t)).toBe("tx.rejected {}");
    expect(purchaseErrorText(new ApiError(422, "InsufficientPayment", "sent 1 wei"), t)).toBe(
      'tx.wouldRevert {"message":"sent 1 wei"}',
    );
    expect(purchaseErrorText(new TxRevertedError(HASH), t)).toBe(`tx.reverted {"hash":"${HASH}"}`);
    expect(purchaseErrorText(new Error("boom"), t)).toBe('tx.failed {"message":"boom"}');
  });
});
