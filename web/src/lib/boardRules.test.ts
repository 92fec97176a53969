import { describe, expect, it } from "vitest";
import type { BoardTask, Claim, ClaimState } from "./board";
import {
  boardAmount,
  checkReward,
  formatDuration,
  hasAction,
  hasSubmission,
  MAX_U96,
  pointsAmount,
  publishSteps,
  reasonBytes32,
  refundableSlots,
  roundNearest,
  typedDecimals,
  sortTasks,
  splitOf,
  viewerActions,
  type BoardAction,
} from "./boardRules";

const PUBLISHER = "0x00000000000000000000000000000000000000a1";
const ARBITER = "0x00000000000000000000000000000000000000a2";
const WORKER = "0x00000000000000000000000000000000000000b1";
const OTHER = "0x00000000000000000000000000000000000000c1";
const MT = "0x00000000000000000000000000000000000000d1";
const ETH = "0x0000000000000000000000000000000000000000";
const ANSWER = 3600;
const noCounts = { working: 0, submitted: 0, rejected: 0, disputed: 0, approved: 0, resolved: 0, removed: 0, closed: 0 };

function task(over: Partial<BoardTask> = {}): BoardTask {
  return {
    id: 7,
    publisher: PUBLISHER,
    communityId: null,
    token: ETH,
    rewardPerSlot: "100",
    reward: "300",
    slots: 3,
    freeSlots: 2,
    points: "0",
    deadline: 10_000,
    reviewWindow: 600,
    workTimeout: 1000,
    maxRevisions: 1,
    arbiter: ARBITER,
    spec: "bafyspec",
    state: "open",
    publishedAt: 1000,
    publishedTx: "0x01",
    counts: { ...noCounts, working: 1 },
    refunded: "0",
    ...over,
  };
}

function claim(state: ClaimState, over: Partial<Claim> = {}): Claim {
  return {
    worker: WORKER,
    state,
    revisions: 0,
    acceptedAt: 2000,
    since: 3000,
    deliverable: state === "working" ? null : "bafywork",
    reviewEndsAt: state === "submitted" ? 3600 : null,
    answerEndsAt: state === "rejected" ? 3000 + ANSWER : null,
    rejectionReason: null,
    disputeReason: null,
    paid: "0",
    pointsMinted: "0",
    ...over,
  };
}

const kinds = (a: BoardAction[]) => a.map((x) => x.kind);

describe("reward and slots", () => {
  it("accepts a reward that splits evenly and gives the slot's pay", () => {
    expect(checkReward(300n, 3)).toEqual({ ok: true, perSlot: 100n });
    expect(checkReward(1n, 1)).toEqual({ ok: true, perSlot: 1n });
  });
  it("refuses one that does not, offering the nearest multiples below and above", () => {
    expect(checkReward(100n, 3)).toEqual({ ok: false, problem: "divisible", below: 99n, above: 102n });
    expect(checkReward(10n ** 18n, 7)).toEqual({ ok: false, problem: "divisible", below: 10n ** 18n - 1n, above: 10n ** 18n + 6n });
  });
  it("offers no zero below and nothing above the contract's ceiling", () => {
    expect(checkReward(2n, 3)).toEqual({ ok: false, problem: "divisible", below: null, above: 3n });
    const r = checkReward(MAX_U96, 2);
    expect(r).toEqual({ ok: false, problem: "divisible", below: MAX_U96 - 1n, above: null });
  });
  it("refuses slots and rewards out of range", () => {
    expect(checkReward(100n, 0)).toEqual({ ok: false, problem: "slots" });
    expect(checkReward(100n, 1.5)).toEqual({ ok: false, problem: "slots" });
    expect(checkReward(1001n, 1001)).toEqual({ ok: false, problem: "slots" });
    expect(checkReward(100n, 5, 4)).toEqual({ ok: false, problem: "slots" });
    expect(checkReward(0n, 1)).toEqual({ ok: false, problem: "reward" });
    expect(checkReward(MAX_U96 + 1n, 1)).toEqual({ ok: false, problem: "reward" });
  });
});

describe("round nearest rewards", () => {
  const e18 = 10n ** 18n;
  it("offers values with as few decimals as will do, each a multiple of the slots", () => {
    // 0.1 over 3 → 0.099 / 0.102 (the step 0.003 is within a tenth of the reward)
    expect(roundNearest(e18 / 10n, 3, 18, 1)).toEqual({ below: 99n * 10n ** 15n, above: 102n * 10n ** 15n });
    // 100 over 3 → 99 / 102; 1 over 3 → 0.99 / 1.02
    expect(roundNearest(100n * e18, 3, 18, 0)).toEqual({ below: 99n * e18, above: 102n * e18 });
    expect(roundNearest(e18, 3, 18, 0)).toEqual({ below: 99n * 10n ** 16n, above: 102n * 10n ** 16n });
    // more typed decimals are kept: 1.2345 over 7 keeps four at least
    const r = roundNearest(12345n * 10n ** 14n, 7, 18, 4);
    expect(r.below! % 7n).toBe(0n);
    expect(r.above! % 7n).toBe(0n);
    expect(r.below! % 10n ** 14n).toBe(0n);
    expect(r.below! < 12345n * 10n ** 14n && 12345n * 10n ** 14n < r.above!).toBe(true);
  });
  it("falls back to the exact neighbours in the smallest unit (points have no decimals)", () => {
    expect(roundNearest(100n, 3, 0)).toEqual({ below: 99n, above: 102n });
    expect(roundNearest(2n, 3, 0)).toEqual({ below: null, above: 3n });
    expect(roundNearest(10n, 7, 0)).toEqual({ below: 7n, above: 14n });
  });
  it("reads how many decimals were typed", () => {
    expect(typedDecimals("5")).toBe(0);
    expect(typedDecimals("0.10")).toBe(2);
    expect(typedDecimals(" 1. ")).toBe(0);
  });
});

describe("what a viewer may do", () => {
  it("nothing without a wallet, and nothing on a cancelled task", () => {
    expect(viewerActions(task(), [], null, 5000, ANSWER)).toEqual([]);
    expect(viewerActions(task({ state: "cancelled" }), [claim("working")], PUBLISHER, 5000, ANSWER)).toEqual([]);
    expect(viewerActions(task({ state: "cancelled" }), [], OTHER, 20_000, ANSWER)).toEqual([]);
  });

  it("a stranger accepts an open task with a free slot before the deadline, never after", () => {
    expect(kinds(viewerActions(task(), [], OTHER, 5000, ANSWER))).toEqual(["accept"]);
    expect(kinds(viewerActions(task({ freeSlots: 0 }), [], OTHER, 5000, ANSWER))).toEqual([]);
    // at the deadline: no accepting, but the unused slots may be refunded by anyone
    expect(kinds(viewerActions(task(), [], OTHER, 10_000, ANSWER))).toEqual(["refund"]);
  });

  it("the publisher and the arbiter never accept their own task", () => {
    expect(kinds(viewerActions(task(), [], PUBLISHER, 5000, ANSWER))).toEqual(["cancel", "extend"]);
    expect(kinds(viewerActions(task(), [], ARBITER, 5000, ANSWER))).toEqual([]);
  });

  it("working: the worker submits before the deadline; the publisher removes a silent one after the timeout", () => {
    const c = [claim("working")];
    expect(kinds(viewerActions(task(), c, WORKER, 2500, ANSWER))).toEqual(["submit"]);
    expect(kinds(viewerActions(task(), c, WORKER, 10_000, ANSWER))).toEqual(["refund"]);
    expect(kinds(viewerActions(task(), c, PUBLISHER, 2999, ANSWER))).toEqual(["cancel", "extend"]);
    expect(viewerActions(task(), c, PUBLISHER, 3000, ANSWER)).toEqual([{ kind: "remove", worker: WORKER }, { kind: "cancel", blocked: null }, { kind: "extend" }]);
    // removal is refused from the deadline on
    expect(kinds(viewerActions(task(), c, PUBLISHER, 10_000, ANSWER))).toEqual(["cancel", "refund"]);
  });

  it("an account that held a slot cannot accept again, whatever became of it", () => {
    for (const s of ["removed", "closed", "approved", "resolved"] as const) {
      expect(hasAction(viewerActions(task(), [claim(s)], WORKER, 5000, ANSWER), "accept")).toBe(false);
    }
  });

  it("submitted: the publisher approves any time and rejects only within the review window; anyone approves a lapsed review", () => {
    const t = task({ counts: { ...noCounts, submitted: 1 } });
    const c = [claim("submitted")];
    expect(kinds(viewerActions(t, c, PUBLISHER, 3599, ANSWER))).toEqual(["approve", "reject", "cancel", "extend"]);
    expect(kinds(viewerActions(t, c, PUBLISHER, 3600, ANSWER))).toEqual(["approve", "cancel", "extend"]);
    expect(kinds(viewerActions(t, c, OTHER, 3599, ANSWER))).toEqual(["accept"]);
    expect(viewerActions(t, c, OTHER, 3600, ANSWER)).toEqual([{ kind: "accept" }, { kind: "approveLapsed", worker: WORKER }]);
    expect(kinds(viewerActions(t, c, WORKER, 3600, ANSWER))).toEqual(["approveLapsed"]);
    expect(kinds(viewerActions(t, c, WORKER, 3599, ANSWER))).toEqual([]);
  });

  it("the review window falls back to since + reviewWindow when the API leaves it out", () => {
    const c = [claim("submitted", { reviewEndsAt: null, since: 4000 })];
    expect(hasAction(viewerActions(task(), c, PUBLISHER, 4599, ANSWER), "reject", WORKER)).toBe(true);
    expect(hasAction(viewerActions(task(), c, PUBLISHER, 4600, ANSWER), "reject", WORKER)).toBe(false);
  });

  it("cancel is shown to the publisher but blocked once any submission exists", () => {
    for (const s of ["submitted", "rejected", "disputed", "approved", "resolved", "closed"] as const) {
      const a = viewerActions(task(), [claim(s)], PUBLISHER, 5000, ANSWER).find((x) => x.kind === "cancel");
      expect(a, s).toEqual({ kind: "cancel", blocked: "submissions" });
    }
    for (const s of ["working", "removed"] as const) {
      expect(viewerActions(task(), [claim(s)], PUBLISHER, 5000, ANSWER).find((x) => x.kind === "cancel"), s).toEqual({ kind: "cancel", blocked: null });
    }
    // the counts tell it too when the claims are not at hand
    expect(hasSubmission(task({ counts: { ...noCounts, approved: 1 } }), [])).toBe(true);
    expect(hasSubmission(task(), [])).toBe(false);
    // the contract's own flag wins when the API sends it
    expect(hasSubmission(task({ submitted: true }), [])).toBe(true);
    expect(hasSubmission(task({ submitted: false }), [claim("working")])).toBe(false);
  });

  it("rejected: the worker revises while revisions are left and disputes until the answer window ends; then anyone closes it", () => {
    const t = task({ counts: { ...noCounts, rejected: 1 } });
    expect(viewerActions(t, [claim("rejected")], WORKER, 4000, ANSWER)).toEqual([{ kind: "revise", left: 1 }, { kind: "dispute" }]);
    expect(kinds(viewerActions(t, [claim("rejected", { revisions: 1 })], WORKER, 4000, ANSWER))).toEqual(["dispute"]);
    // a revision may come after the deadline: the deadline bounds first submissions only
    expect(kinds(viewerActions(t, [claim("rejected", { answerEndsAt: 20_000 })], WORKER, 12_000, ANSWER))).toEqual(["revise", "dispute", "refund"]);
    expect(kinds(viewerActions(t, [claim("rejected")], WORKER, 6600, ANSWER))).toEqual(["closeRejected"]);
    expect(kinds(viewerActions(t, [claim("rejected")], OTHER, 6599, ANSWER))).toEqual(["accept"]);
    expect(viewerActions(t, [claim("rejected")], OTHER, 6600, ANSWER)).toEqual([{ kind: "accept" }, { kind: "closeRejected", worker: WORKER }]);
    // without answerEndsAt the board's answer window counts from `since`
    expect(kinds(viewerActions(t, [claim("rejected", { answerEndsAt: null })], WORKER, 3000 + ANSWER - 1, ANSWER))).toEqual(["revise", "dispute"]);
  });

  it("disputed: only the arbiter resolves, at any time", () => {
    const c = [claim("disputed")];
    expect(viewerActions(task(), c, ARBITER, 5000, ANSWER)).toEqual([{ kind: "resolve", worker: WORKER }]);
    expect(kinds(viewerActions(task(), c, ARBITER, 50_000, ANSWER))).toEqual(["resolve", "refund"]);
    expect(hasAction(viewerActions(task(), c, PUBLISHER, 5000, ANSWER), "resolve")).toBe(false);
    expect(kinds(viewerActions(task(), c, WORKER, 5000, ANSWER))).toEqual([]);
  });

  it("final states leave the worker nothing to do", () => {
    for (const s of ["approved", "resolved", "removed", "closed"] as const) {
      expect(kinds(viewerActions(task(), [claim(s)], WORKER, 5000, ANSWER)), s).toEqual([]);
    }
  });

  it("refund: anyone from the deadline while free or silent slots remain, once", () => {
    expect(refundableSlots(task())).toBe(3);
    expect(viewerActions(task(), [claim("working")], OTHER, 10_000, ANSWER)).toEqual([{ kind: "refund", slots: 3 }]);
    expect(viewerActions(task({ freeSlots: 0, counts: noCounts }), [], OTHER, 10_000, ANSWER)).toEqual([]);
    expect(viewerActions(task(), [claim("working")], OTHER, 10_000, ANSWER, true)).toEqual([]);
  });

  it("extend: the publisher, before the deadline only", () => {
    expect(hasAction(viewerActions(task(), [], PUBLISHER, 9999, ANSWER), "extend")).toBe(true);
    expect(hasAction(viewerActions(task(), [], PUBLISHER, 10_000, ANSWER), "extend")).toBe(false);
  });

  it("addresses compare in any case", () => {
    expect(kinds(viewerActions(task(), [], PUBLISHER.toUpperCase().replace("0X", "0x"), 5000, ANSWER))).toEqual(["cancel", "extend"]);
  });
});

describe("publishing", () => {
  it("approves first only for a token whose allowance is short", () => {
    expect(publishSteps(ETH, 10n, null)).toEqual(["publish"]);
    expect(publishSteps(MT, 10n, 9n)).toEqual(["approve", "publish"]);
    expect(publishSteps(MT, 10n, null)).toEqual(["approve", "publish"]);
    expect(publishSteps(MT, 10n, 10n)).toEqual(["publish"]);
    expect(publishSteps(MT, 10n, 11n)).toEqual(["publish"]);
  });
});

describe("splits, reasons, amounts", () => {
  it("splits a slot as the contract does, the worker's part rounded down", () => {
    expect(splitOf(100n, 10_000)).toEqual({ worker: 100n, publisher: 0n });
    expect(splitOf(100n, 0)).toEqual({ worker: 0n, publisher: 100n });
    expect(splitOf(101n, 5000)).toEqual({ worker: 50n, publisher: 51n });
    expect(splitOf(3n, 3333)).toEqual({ worker: 0n, publisher: 3n });
  });
  it("packs a reason of at most 32 bytes", () => {
    expect(reasonBytes32("")).toBe(`0x${"0".repeat(64)}`);
    expect(reasonBytes32("ab")).toBe(`0x6162${"0".repeat(60)}`);
    expect(reasonBytes32("x".repeat(32))).toBe(`0x${"78".repeat(32)}`);
    expect(reasonBytes32("x".repeat(33))).toBeNull();
    expect(reasonBytes32("积分积分积分积分积分积")).toBeNull(); // 33 bytes of UTF-8
  });
  it("formats amounts in their token, points without decimals", () => {
    const tokens = { [ETH]: { symbol: "ETH", decimals: 18 }, [MT]: { symbol: "AMT", decimals: 18 } };
    expect(boardAmount("10000000000000000", ETH, tokens)).toBe("0.01 ETH");
    expect(boardAmount(1234n * 10n ** 18n, MT.toUpperCase().replace("0X", "0x"), tokens)).toBe("1,234 AMT");
    expect(boardAmount("5", OTHER, tokens)).toBe("5 (0x0000…00c1)");
    expect(pointsAmount("1500", "KP")).toBe("1,500 KP");
    expect(pointsAmount(7n, null)).toBe("7");
  });
  it("says durations in their largest units", () => {
    const u = { d: "d", h: "h", m: "m", s: "s" };
    expect(formatDuration(0, u)).toBe("0s");
    expect(formatDuration(45, u)).toBe("45s");
    expect(formatDuration(600, u)).toBe("10m");
    expect(formatDuration(3 * 86400 + 4 * 3600 + 59, u)).toBe("3d 4h");
    expect(formatDuration(3600 + 120, u)).toBe("1h 2m");
  });
});

describe("the mall's order", () => {
  const a = task({ id: 1, deadline: 300, freeSlots: 1, rewardPerSlot: "5" });
  const b = task({ id: 2, deadline: 100, freeSlots: 3, rewardPerSlot: "50" });
  const c = task({ id: 3, deadline: 200, freeSlots: 2, rewardPerSlot: "7" });
  it("sorts a copy", () => {
    const list = [a, b, c];
    expect(sortTasks(list, "newest").map((x) => x.id)).toEqual([3, 2, 1]);
    expect(sortTasks(list, "deadline").map((x) => x.id)).toEqual([2, 3, 1]);
    expect(sortTasks(list, "free").map((x) => x.id)).toEqual([2, 3, 1]);
    expect(sortTasks(list, "reward").map((x) => x.id)).toEqual([2, 3, 1]);
    expect(list.map((x) => x.id)).toEqual([1, 2, 3]);
  });
});
