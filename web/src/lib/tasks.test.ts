import { describe, expect, it } from "vitest";
import type { Task } from "./api";
import { emptyTasks, mergeTask, parseTaskEvent, sortedTasks, tasksReducer, type TasksState } from "./tasks";

const USER = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";

function task(id: number, status: Task["status"], updatedBlock: number, extra: Partial<Task> = {}): Task {
  return {
    id,
    user: USER,
    serviceId: 1,
    amount: "10000000000000000",
    token: "0x0000000000000000000000000000000000000000",
    status,
    deadline: 2_000_000_000,
    input: "hello",
    resultHash: null,
    failureReason: null,
    createdBlock: 10,
    createdTx: `0x${"11".repeat(32)}`,
    createdAt: 1_700_000_000,
    updatedBlock,
    updatedAt: 1_700_000_000 + updatedBlock,
    ...extra,
  };
}

const signedIn: TasksState = tasksReducer(emptyTasks, { type: "reset", user: USER.toUpperCase().replace("0X", "0x") });

describe("tasks reducer", () => {
  it("applies pushed updates in order", () => {
    let s = tasksReducer(signedIn, { type: "upsert", task: task(3, "Created", 10) });
    s = tasksReducer(s, { type: "upsert", task: task(3, "Running", 11) });
    s = tasksReducer(s, { type: "upsert", task: task(3, "Completed", 12, { resultHash: "bafkqabc" }) });
    expect(s.byId[3].status).toBe("Completed");
    expect(s.byId[3].resultHash).toBe("bafkqabc");
  });
  it("ignores a view older than the one held", () => {
    let s = tasksReducer(signedIn, { type: "upsert", task: task(3, "Completed", 12) });
    const before = s;
    s = tasksReducer(s, { type: "upsert", task: task(3, "Running", 11) });
    expect(s).toBe(before);
    expect(s.byId[3].status).toBe("Completed");
  });
  it("ignores other users' tasks and tasks before anyone is connected", () => {
    const other = task(4, "Created", 10, { user: "0x0000000000000000000000000000000000000001" });
    expect(tasksReducer(signedIn, { type: "upsert", task: other })).toBe(signedIn);
    expect(tasksReducer(emptyTasks, { type: "upsert", task: task(3, "Created", 10) })).toBe(emptyTasks);
  });
  it("keeps the timeline when a newer view comes without one", () => {
    const timeline = [{ event: "TaskCreated", blockNumber: 10, blockTimestamp: 1, txHash: `0x${"22".repeat(32)}` as const }];
    const merged = mergeTask(task(3, "Created", 10, { timeline }), task(3, "Running", 11));
    expect(merged.status).toBe("Running");
    expect(merged.timeline).toEqual(timeline);
    expect(mergeTask(task(3, "Running", 11, { iexec: { dealId: "0xd", taskId: "0xt", status: "RUNNING" } }), task(3, "Running", 11)).iexec?.dealId).toBe("0xd");
  });
  it("merges a loaded list with tasks pushed while it loaded", () => {
    let s = tasksReducer(signedIn, { type: "upsert", task: task(5, "Running", 20) });
    s = tasksReducer(s, { type: "upsert", task: task(6, "Created", 21) });
    s = tasksReducer(s, { type: "loaded", user: USER, tasks: [task(5, "Created", 19), task(2, "Completed", 8)] });
    expect(s.byId[5].status).toBe("Running");
    expect(s.byId[6].status).toBe("Created");
    expect(s.byId[2].status).toBe("Completed");
    expect(sortedTasks(s).map((t) => t.id)).toEqual([6, 5, 2]);
  });
  it("drops a list loaded for a previous account", () => {
    const s = tasksReducer(signedIn, { type: "loaded", user: "0x0000000000000000000000000000000000000001", tasks: [task(1, "Created", 1)] });
    expect(s).toBe(signedIn);
  });
  it("starts empty when the account changes", () => {
    const s = tasksReducer(tasksReducer(signedIn, { type: "upsert", task: task(3, "Created", 10) }), { type: "reset", user: null });
    expect(s).toEqual(emptyTasks);
  });
  it("parses stream payloads", () => {
    expect(parseTaskEvent(JSON.stringify(task(3, "Running", 11)))?.status).toBe("Running");
    expect(parseTaskEvent("not json")).toBeNull();
    expect(parseTaskEvent('{"id":1}')).toBeNull();
  });
});
