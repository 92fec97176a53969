import { describe, expect, it } from "vitest";
import { canRefund, isFinal, progressSteps, statusKey, timelineKey } from "./status";

describe("status", () => {
  it("maps every status to its message key", () => {
    expect(statusKey("Created")).toBe("status.created");
    expect(statusKey("Running")).toBe("status.running");
    expect(statusKey("Completed")).toBe("status.completed");
    expect(statusKey("Refunded")).toBe("status.refunded");
    expect(statusKey("Weird" as never)).toBe("status.unknown");
  });
  it("knows which statuses are final", () => {
    expect(isFinal("Created")).toBe(false);
    expect(isFinal("Running")).toBe(false);
    expect(isFinal("Completed")).toBe(true);
    expect(isFinal("Refunded")).toBe(true);
  });
  it("offers a refund only after the deadline of an unfinished task", () => {
    expect(canRefund({ status: "Created", deadline: 100 }, 100)).toBe(false);
    expect(canRefund({ status: "Created", deadline: 100 }, 101)).toBe(true);
    expect(canRefund({ status: "Running", deadline: 100 }, 101)).toBe(true);
    expect(canRefund({ status: "Completed", deadline: 100 }, 101)).toBe(false);
    expect(canRefund({ status: "Refunded", deadline: 100 }, 101)).toBe(false);
    expect(canRefund({ status: "Created", deadline: null }, 101)).toBe(false);
  });
  it("names timeline events and hides the input event", () => {
    expect(timelineKey("TaskCreated")).toBe("timeline.created");
    expect(timelineKey("TaskInput")).toBeNull();
    expect(timelineKey("TaskStarted")).toBe("timeline.started");
    expect(timelineKey("TaskCompleted")).toBe("timeline.completed");
    expect(timelineKey("TaskFailed")).toBe("timeline.failed");
    expect(timelineKey("TaskRefunded")).toBe("timeline.refunded");
    expect(timelineKey("Something")).toBe("timeline.other");
  });
  it("draws progress Created → Running → Completed or Refunded", () => {
    expect(progressSteps("Created").map((s) => s.state)).toEqual(["current", "pending", "pending"]);
    expect(progressSteps("Running").map((s) => s.state)).toEqual(["done", "current", "pending"]);
    expect(progressSteps("Completed").map((s) => [s.key, s.state])).toEqual([
      ["status.created", "done"],
      ["status.running", "done"],
      ["status.completed", "done"],
    ]);
    expect(progressSteps("Refunded").at(-1)).toEqual({ key: "status.refunded", state: "done" });
    expect(progressSteps("Refunded", true).map((s) => s.key)).toEqual(["status.created", "status.running", "status.refunded"]);
    expect(progressSteps("Refunded", false).map((s) => [s.key, s.state])).toEqual([
      ["status.created", "done"],
      ["status.refunded", "done"],
    ]);
    expect(progressSteps("Completed", false)).toHaveLength(3);
  });
});
