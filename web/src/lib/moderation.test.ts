import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { actionsFor, moderationErrorKey, readLog, readQueue, reasonOk } from "./moderation";

const POST = {
  id: 4,
  communityId: 1,
  threadId: 4,
  author: "0x00000000000000000000000000000000000000a1",
  title: "Kites",
  body: "text",
  createdAt: 1,
  deleted: false,
  hidden: false,
  locked: false,
  pinned: false,
  replies: 0,
};

describe("moderation", () => {
  it("offers hide, lock and pin on a thread, hide alone on a reply, nothing on a tombstone", () => {
    expect(actionsFor(POST)).toEqual(["hide", "lock", "pin"]);
    expect(actionsFor({ ...POST, hidden: true, locked: true, pinned: true })).toEqual(["unhide", "unlock", "unpin"]);
    expect(actionsFor({ ...POST, id: 5 })).toEqual(["hide"]);
    expect(actionsFor({ ...POST, deleted: true })).toEqual([]);
  });

  it("takes a reason of one line, 1 to 500 characters", () => {
    expect(reasonOk(" spam ")).toBe(true);
    expect(reasonOk("   ")).toBe(false);
    expect(reasonOk("a\nb")).toBe(false);
    expect(reasonOk("x".repeat(500))).toBe(true);
    expect(reasonOk("x".repeat(501))).toBe(false);
  });

  it("names the node's refusals", () => {
    expect(moderationErrorKey(new ApiError(409, "already_reported", ""))).toBe("moderation.error.alreadyReported");
    expect(moderationErrorKey(new ApiError(403, "not_moderator", ""))).toBe("moderation.error.notModerator");
    expect(moderationErrorKey(new ApiError(401, "unauthenticated", ""))).toBe("moderation.error.signIn");
    expect(moderationErrorKey(new ApiError(409, "no_open_reports", ""))).toBe("moderation.error.noOpenReports");
    expect(moderationErrorKey(new ApiError(500, "internal", ""))).toBeNull();
    expect(moderationErrorKey(new Error("x"))).toBeNull();
  });

  it("reads the queue and the log", () => {
    const q = readQueue([{ post: POST, reports: [{ postId: 4, reporter: "0x00000000000000000000000000000000000000B2", reason: "spam", reportedAt: 3 }] }]);
    expect(q[0].post.id).toBe(4);
    expect(q[0].reports[0].reporter).toBe("0x00000000000000000000000000000000000000b2");
    const log = readLog([{ seq: 1, communityId: 1, postId: 4, actor: "0x00000000000000000000000000000000000000a1", action: "hide", reason: "spam", at: 5 }]);
    expect(log[0].action).toBe("hide");
    expect(() => readQueue({})).toThrow(/list/);
  });
});
