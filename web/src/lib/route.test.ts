import { describe, expect, it } from "vitest";
import { flHref, flViewOf, nextRoute, routeHref, routeOf } from "./route";

describe("hash routes", () => {
  it("name the sections", () => {
    expect(routeOf("")).toBe("market");
    expect(routeOf("#/")).toBe("market");
    expect(routeOf("#/assistant")).toBe("assistant");
    expect(routeOf("#/admin")).toBe("admin");
    expect(routeOf("#/data")).toBe("data");
    expect(routeOf("#/admin/jobs")).toBe("admin");
    expect(routeOf("#/nowhere")).toBe("market");
    expect(routeOf("#/fl")).toBe("fl");
    expect(routeOf("#/fl/task/3")).toBe("fl");
    expect(routeOf("#/me")).toBe("me");
    expect(routeOf("#/notifications")).toBe("notifications");
    expect(routeOf(`#/verify-email?token=${"a".repeat(64)}`)).toBe("verify-email");
  });
  it("leave in-page anchors alone", () => {
    expect(routeOf("#main")).toBeNull();
    expect(nextRoute("#main", "assistant")).toBe("assistant");
    expect(nextRoute("#/admin", "assistant")).toBe("admin");
  });
  it("round-trip", () => {
    for (const r of ["market", "assistant", "data", "fl", "me", "admin"] as const) expect(routeOf(routeHref(r))).toBe(r);
  });
});

describe("federated-learning pages", () => {
  it("read the task and predict pages from the hash", () => {
    expect(flViewOf("#/fl")).toEqual({ page: "tasks" });
    expect(flViewOf("#/fl/task/12")).toEqual({ page: "task", id: 12 });
    expect(flViewOf("#/fl/predict/4")).toEqual({ page: "predict", id: 4 });
    expect(flViewOf("#/fl/predict")).toEqual({ page: "predict", id: null });
    expect(flViewOf("#/fl/task/0")).toEqual({ page: "tasks" });
    expect(flViewOf("#/fl/task/x")).toEqual({ page: "tasks" });
    expect(flViewOf("#/me")).toEqual({ page: "tasks" });
  });
  it("round-trip", () => {
    for (const v of [{ page: "tasks" }, { page: "task", id: 7 }, { page: "predict", id: 7 }, { page: "predict", id: null }] as const) {
      expect(flViewOf(flHref(v))).toEqual(v);
    }
  });
});
