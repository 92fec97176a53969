import { describe, expect, it } from "vitest";
import { CLAIM_STATES, type BoardTask, type ClaimState } from "./board";
import { activeClaims, disputedFirst } from "./adminBoard";

const task = (id: number, counts: Partial<Record<ClaimState, number>> = {}) =>
  ({ id, counts: { ...Object.fromEntries(CLAIM_STATES.map((s) => [s, 0])), ...counts } }) as unknown as BoardTask;

describe("admin board", () => {
  it("puts disputed tasks first, the most disputes first, keeping the node's order otherwise", () => {
    const tasks = [task(9), task(8, { disputed: 1 }), task(7), task(6, { disputed: 2 }), task(5, { disputed: 1 })];
    expect(disputedFirst(tasks).map((t) => t.id)).toEqual([6, 8, 5, 9, 7]);
  });

  it("counts the claims still in play", () => {
    expect(activeClaims(task(1, { working: 1, submitted: 2, rejected: 1, disputed: 1, approved: 4, closed: 1 }))).toBe(5);
  });
});
