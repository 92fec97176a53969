import { describe, expect, it } from "vitest";
import { readAccountBoard, readConfig, readTask, readTaskDetail, taskQuery } from "./board";
import { boardHref, boardViewOf, isBoardHash } from "./boardRoute";

const TASK = {
  id: 3,
  publisher: "0x00000000000000000000000000000000000000A1",
  communityId: null,
  token: "0x0000000000000000000000000000000000000000",
  rewardPerSlot: "10000000000000000",
  reward: "30000000000000000",
  slots: 3,
  freeSlots: 2,
  points: "0",
  deadline: 1_900_000_000,
  reviewWindow: 86400,
  workTimeout: 86400,
  maxRevisions: 2,
  arbiter: "0x00000000000000000000000000000000000000a2",
  spec: "bafkreispec",
  state: "open",
  publishedAt: 1_800_000_000,
  publishedTx: "0xabc",
  counts: { working: 1, submitted: 0, rejected: 0, disputed: 0, approved: 0, resolved: 0, removed: 0, closed: 0 },
  refunded: "0",
};

describe("board answers", () => {
  it("reads a task, addresses in lower case", () => {
    const t = readTask(TASK);
    expect(t.publisher).toBe("0x00000000000000000000000000000000000000a1");
    expect(t.counts.working).toBe(1);
    expect(t.rewardPerSlot).toBe("10000000000000000");
    expect(t.submitted).toBeUndefined();
    expect(readTask({ ...TASK, submitted: true }).submitted).toBe(true);
  });
  it("refuses amounts that are not decimal strings and unknown states", () => {
    expect(() => readTask({ ...TASK, reward: 3e16 })).toThrow(/task.reward is not a decimal amount/);
    expect(() => readTask({ ...TASK, reward: "-1" })).toThrow(/decimal amount/);
    expect(() => readTask({ ...TASK, state: "gone" })).toThrow(/task.state/);
    expect(() => readTask({ ...TASK, publisher: "0x12" })).toThrow(/task.publisher is not an address/);
  });
  it("reads a task with its claims and timeline", () => {
    const d = readTaskDetail({
      task: TASK,
      claims: [
        {
          worker: "0x00000000000000000000000000000000000000b1",
          state: "submitted",
          revisions: 0,
          acceptedAt: 1,
          since: 2,
          deliverable: "bafywork",
          reviewEndsAt: 3,
          answerEndsAt: null,
          rejectionReason: null,
          disputeReason: null,
          paid: "0",
          pointsMinted: "0",
        },
      ],
      timeline: [{ kind: "published", at: 1, block: 5, tx: "0x01", worker: null, detail: { slots: 3, nested: { no: 1 } } }],
    });
    expect(d.claims[0].state).toBe("submitted");
    expect(d.timeline[0].detail).toEqual({ slots: 3 });
    expect(() => readTaskDetail({ task: TASK, claims: [{ worker: "x" }], timeline: [] })).toThrow(/claims\[0\]/);
  });
  it("reads the config and an account", () => {
    const c = readConfig({
      taskBoard: "0x00000000000000000000000000000000000000e1",
      communities: "0x00000000000000000000000000000000000000e2",
      answerWindow: 3600,
      maxSlots: 1000,
      maxReviewWindow: 2592000,
      maxTaskDuration: 31536000,
      platformArbiter: "0x00000000000000000000000000000000000000a2",
    });
    expect(c.answerWindow).toBe(3600);
    const a = readAccountBoard({ published: [TASK], working: [], points: [{ communityId: 1, name: "K", symbol: "KP", balance: "5" }], communities: [1] });
    expect(a.points[0].balance).toBe("5");
    expect(() => readAccountBoard({ published: [], working: [], points: [], communities: ["1"] })).toThrow(/communities\[0\]/);
  });
  it("builds the list query without empty filters", () => {
    expect(taskQuery({})).toBe("");
    expect(taskQuery({ community: 0, state: "open", token: "0xABC", limit: 21, offset: 20, publisher: null })).toBe("community=0&state=open&token=0xabc&limit=21&offset=20");
  });
});

describe("board routes", () => {
  it("name the pages and back", () => {
    expect(boardViewOf("#/board")).toEqual({ page: "mall" });
    expect(boardViewOf("#/board/task/12")).toEqual({ page: "task", id: 12 });
    expect(boardViewOf("#/board/task/0")).toEqual({ page: "mall" });
    expect(boardViewOf("#/board/new")).toEqual({ page: "new" });
    expect(boardViewOf("#/board/mine")).toEqual({ page: "mine" });
    expect(boardViewOf("#/communities")).toEqual({ page: "communities" });
    expect(boardViewOf("#/community/4")).toEqual({ page: "community", id: 4 });
    expect(boardViewOf("#/community/x")).toEqual({ page: "communities" });
    for (const v of [{ page: "mall" }, { page: "task", id: 3 }, { page: "new" }, { page: "mine" }, { page: "communities" }, { page: "community", id: 9 }] as const) {
      expect(boardViewOf(boardHref(v))).toEqual(v);
    }
    expect(isBoardHash("#/board/task/1")).toBe(true);
    expect(isBoardHash("#/community/1")).toBe(true);
    expect(isBoardHash("#/boardx")).toBe(false);
    expect(isBoardHash("#/fl")).toBe(false);
  });
});
