import { afterEach, describe, expect, it, vi } from "vitest";
import type { Task } from "./api";
import { followEvents, parseServiceEvent, reconnectDelay, statusChanged, streamUrl, type StreamState } from "./stream";

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

/// An EventSource the test drives: every instance is kept, and `emit` runs a listener.
class FakeSource {
  static made: FakeSource[] = [];
  closed = false;
  listeners = new Map<string, ((ev: { data?: string }) => void)[]>();
  constructor(readonly url: string) {
    FakeSource.made.push(this);
  }
  addEventListener(name: string, fn: (ev: { data?: string }) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]);
  }
  close() {
    this.closed = true;
  }
  emit(name: string, data?: string) {
    for (const fn of this.listeners.get(name) ?? []) fn({ data });
  }
}

describe("followEvents", () => {
  afterEach(() => {
    vi.useRealTimers();
    FakeSource.made = [];
  });

  it("routes named events, re-reads on each opening and reopens after an error with growing delays until stopped", () => {
    vi.useFakeTimers();
    const states: StreamState[] = [];
    const got: string[] = [];
    let opened = 0;
    const stop = followEvents(
      "/api/events",
      { task: (d) => got.push(`task ${d}`), resync: () => got.push("resync") },
      { onState: (s) => states.push(s), onOpen: () => (opened += 1) },
      FakeSource as unknown as typeof EventSource,
    );
    const first = FakeSource.made[0];
    first.emit("open");
    first.emit("task", "{\"id\":1}");
    first.emit("resync");
    first.emit("service", "ignored: no handler");
    expect(got).toEqual(["task {\"id\":1}", "resync"]);
    first.emit("error");
    expect(first.closed).toBe(true);
    vi.advanceTimersByTime(499);
    expect(FakeSource.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const second = FakeSource.made[1];
    second.emit("error");
    vi.advanceTimersByTime(999);
    expect(FakeSource.made).toHaveLength(2);
    vi.advanceTimersByTime(1);
    FakeSource.made[2].emit("open");
    expect(states).toEqual(["connecting", "live", "reconnecting", "reconnecting", "reconnecting", "reconnecting", "live"]);
    expect(opened).toBe(2);
    stop();
    expect(FakeSource.made[2].closed).toBe(true);
    FakeSource.made[2].emit("error");
    vi.advanceTimersByTime(60_000);
    expect(FakeSource.made).toHaveLength(3);
  });
});
