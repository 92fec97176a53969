import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import {
  avatarProblem,
  emailLooksValid,
  groupPrefs,
  levelOf,
  markedRead,
  mergeNotifications,
  nameProblem,
  notificationHref,
  notificationText,
  parseScope,
  readEmail,
  readNotificationPage,
  readPrefs,
  readProfile,
  saveErrorKey,
  verifyFailure,
  verifyTokenOf,
  withPref,
  type Notification,
} from "./social";

const note = (id: number, over: Partial<Notification> = {}): Notification => ({
  id,
  kind: "board-accepted",
  subject: "board-task:7",
  title: "0xabc accepted your task #7",
  payload: { taskId: 7, worker: "0x00000000000000000000000000000000000000b2" },
  createdAt: 1_800_000_000 + id,
  readAt: null,
  ...over,
});

describe("profiles and e-mail", () => {
  it("reads a profile never saved and one saved", () => {
    expect(readProfile({ address: "0x00000000000000000000000000000000000000A1" })).toEqual({
      address: "0x00000000000000000000000000000000000000a1",
      displayName: null,
      avatar: null,
      avatarUrl: null,
      updatedAt: null,
    });
    const p = readProfile({ address: "0x00000000000000000000000000000000000000a1", displayName: "Ada", avatar: "bafy", avatarUrl: "/ipfs/bafy", updatedAt: 5 });
    expect(p.displayName).toBe("Ada");
    expect(() => readProfile({ address: "nope" })).toThrow(/address/);
  });

  it("reads an e-mail state: none, unverified, verified", () => {
    expect(readEmail({ verified: false })).toEqual({ email: null, verified: false, verifiedAt: null });
    expect(readEmail({ email: "a@b.io", verified: true, verifiedAt: 9 }).verified).toBe(true);
  });

  it("checks names, addresses and avatars as the node does", () => {
    expect(nameProblem("  Ada  ")).toBeNull();
    expect(nameProblem("")).toBeNull();
    expect(nameProblem("x".repeat(41))).toBe("long");
    expect(nameProblem("é".repeat(40))).toBeNull();
    expect(nameProblem("a\u0007b")).toBe("control");
    expect(emailLooksValid("ada@example.org")).toBe(true);
    expect(emailLooksValid("ada@example")).toBe(false);
    expect(emailLooksValid("a da@example.org")).toBe(false);
    expect(avatarProblem({ type: "image/png", size: 10 })).toBeNull();
    expect(avatarProblem({ type: "image/svg+xml", size: 10 })).toBe("type");
    expect(avatarProblem({ type: "image/gif", size: 2 * 1024 * 1024 + 1 })).toBe("size");
  });

  it("explains the node's refusals of a save", () => {
    expect(saveErrorKey(new ApiError(400, "avatar_not_image", ""))).toBe("profile.error.avatarType");
    expect(saveErrorKey(new ApiError(409, "too_many_links", ""))).toBe("profile.error.tooManyLinks");
    expect(saveErrorKey(new ApiError(401, "unauthenticated", ""))).toBe("profile.error.signIn");
    expect(saveErrorKey(new ApiError(400, "bad_request", "name"))).toBeNull();
  });

  it("takes a verification link's token only when it is 64 hex digits", () => {
    const token = "AB".repeat(32);
    expect(verifyTokenOf(`#/verify-email?token=${token}`)).toBe(token.toLowerCase());
    expect(verifyTokenOf("#/verify-email")).toBeNull();
    expect(verifyTokenOf("#/verify-email?token=abc")).toBeNull();
    expect(verifyTokenOf(`#/verify-email?x=1&token=${"0".repeat(64)}`)).toBe("0".repeat(64));
  });

  it("names a refused verification by the node's code", () => {
    expect(verifyFailure(new ApiError(409, "token_used", "used"))).toBe("used");
    expect(verifyFailure(new ApiError(409, "token_expired", "old"))).toBe("expired");
    expect(verifyFailure(new ApiError(409, "token_superseded", "other"))).toBe("superseded");
    expect(verifyFailure(new ApiError(400, "token_unknown", "?"))).toBe("unknown");
    expect(verifyFailure(new ApiError(500, "internal", "boom"))).toBe("other");
    expect(verifyFailure(new Error("x"))).toBe("other");
  });
});

describe("notifications", () => {
  it("reads a page; a read one carries its time", () => {
    const page = readNotificationPage({ items: [{ ...note(2), readAt: 7 }, note(1)], unread: 1 });
    expect(page.unread).toBe(1);
    expect(page.items.map((n) => n.readAt)).toEqual([7, null]);
    expect(() => readNotificationPage({ items: [{ id: -1 }], unread: 0 })).toThrow();
  });

  it("links to the task, the community or the compute market", () => {
    expect(notificationHref({ subject: "board-task:7" })).toBe("#/board/task/7");
    expect(notificationHref({ subject: "community:3" })).toBe("#/community/3");
    expect(notificationHref({ subject: "compute-task:9" })).toBe("#/");
    expect(notificationHref({ subject: "elsewhere:1" })).toBeNull();
    expect(notificationHref({ subject: "board-task:x" })).toBeNull();
  });

  it("renders from kind and payload", () => {
    expect(notificationText(note(1))).toEqual({ key: "notif.kind.board-accepted", vars: { task: "7", worker: "0x0000…00b2" } });
    const minted = note(2, { kind: "points-minted", subject: "community:3", payload: { communityId: 3, amount: "10" } });
    expect(notificationText(minted)).toEqual({ key: "notif.kind.points-minted", vars: { community: "3", amount: "10" } });
  });

  it("merges a pushed one once, newest first, and keeps the newer copy", () => {
    const held = [note(3), note(1)];
    const merged = mergeNotifications(held, [note(2), { ...note(3), readAt: 5 }]);
    expect(merged.map((n) => [n.id, n.readAt])).toEqual([
      [3, 5],
      [2, null],
      [1, null],
    ]);
    expect(mergeNotifications(held, [note(4)], 2).map((n) => n.id)).toEqual([4, 3]);
  });

  it("marks some or all read, leaving read ones as they were", () => {
    const held = [note(3), { ...note(2), readAt: 1 }, note(1)];
    expect(markedRead(held, [1], 9).map((n) => n.readAt)).toEqual([null, 1, 9]);
    expect(markedRead(held, "all", 9).map((n) => n.readAt)).toEqual([9, 1, 9]);
  });
});

describe("notification preferences", () => {
  it("reads them and refuses an unknown level", () => {
    expect(readPrefs({ prefs: [{ scope: "task:4", level: "watching" }] })).toEqual([{ scope: "task:4", level: "watching" }]);
    expect(() => readPrefs({ prefs: [{ scope: "task:4", level: "loud" }] })).toThrow(/level/);
  });

  it("parses scopes", () => {
    expect(parseScope("default")).toEqual({ kind: "default", id: null });
    expect(parseScope("community:12")).toEqual({ kind: "community", id: 12 });
    expect(parseScope("task:0")).toEqual({ kind: "task", id: 0 });
    expect(parseScope("task:")).toBeNull();
    expect(parseScope("board-task:1")).toBeNull();
  });

  it("falls back to the default, then normal", () => {
    const prefs = [
      { scope: "task:1", level: "watching" as const },
      { scope: "default", level: "muted" as const },
    ];
    expect(levelOf(prefs, "task:1")).toBe("watching");
    expect(levelOf(prefs, "task:2")).toBe("muted");
    expect(levelOf([], "task:2")).toBe("normal");
  });

  it("sets, replaces in place and drops a scope", () => {
    const a = withPref([], "community:2", "watching");
    const b = withPref(a, "task:5", "muted");
    expect(b).toEqual([
      { scope: "community:2", level: "watching" },
      { scope: "task:5", level: "muted" },
    ]);
    expect(withPref(b, "community:2", "normal")[0]).toEqual({ scope: "community:2", level: "normal" });
    expect(withPref(b, "community:2", null)).toEqual([{ scope: "task:5", level: "muted" }]);
  });

  it("groups them by kind, ids ascending", () => {
    const g = groupPrefs([
      { scope: "task:9", level: "muted" },
      { scope: "community:4", level: "watching" },
      { scope: "task:2", level: "watching" },
    ]);
    expect(g.default).toBe("normal");
    expect(g.communities).toEqual([{ id: 4, level: "watching" }]);
    expect(g.tasks.map((x) => x.id)).toEqual([2, 9]);
  });
});
