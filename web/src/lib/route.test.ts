import { describe, expect, it } from "vitest";
import { nextRoute, routeHref, routeOf } from "./route";

describe("hash routes", () => {
  it("name the sections", () => {
    expect(routeOf("")).toBe("market");
    expect(routeOf("#/")).toBe("market");
    expect(routeOf("#/assistant")).toBe("assistant");
    expect(routeOf("#/admin")).toBe("admin");
    expect(routeOf("#/data")).toBe("data");
    expect(routeOf("#/admin/jobs")).toBe("admin");
    expect(routeOf("#/nowhere")).toBe("market");
  });
  it("leave in-page anchors alone", () => {
    expect(routeOf("#main")).toBeNull();
    expect(nextRoute("#main", "assistant")).toBe("assistant");
    expect(nextRoute("#/admin", "assistant")).toBe("admin");
  });
  it("round-trip", () => {
    for (const r of ["market", "assistant", "data", "admin"] as const) expect(routeOf(routeHref(r))).toBe(r);
  });
});
