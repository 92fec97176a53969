import { describe, expect, it } from "vitest";
import type { Task } from "./api";
import { parseServiceEvent, reconnectDelay, statusChanged, streamUrl } from "./stream";

describe("event stream", () => {
  it("asks only for the connected user's tasks, lower-cased", () => {
    expect(streamUrl("0xAbC0000000000000000000000000000000000001")).toBe(
      "/api/events?user=0xabc0000000000000000000000000000000000001",
    );
    expect(streamUrl(null)).toBe("/api/events");
  });
  it("reopens after 0.5 s, doubling up to 10 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 30].map(reconnectDelay)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });
  it("takes a service event only when it is one", () => {
    expect(parseServiceEvent('{"id":3,"price":"1"}')?.id).toBe(3);
    expect(parseServiceEvent('{"id":"3"}')).toBeNull();
    expect(parseServiceEvent("null")).toBeNull();
    expect(parseServiceEvent("not json")).toBeNull();
  });
  it("announces a task only when its status is new to the page", () => {
    const task = (status: Task["status"]) => ({ id: 1, status }) as Task;
    expect(statusChanged(undefined, task("Created"))).toBe(true);
    expect(statusChanged(task("Created"), task("Created"))).toBe(false);
    expect(statusChanged(task("Created"), task("Running"))).toBe(true);
  });
});
