// Moderation of community posts as the node's API does it (crates/api/src/moderation.rs): members
// report a post once each with a reason; a community's owner and admins and the node's admins hide
// or unhide any post, lock / unlock and pin / unpin threads, see the queue of posts with open
// reports and resolve them, and read the log. Answers are checked on the way in; which actions a
// post offers and what a refusal means in a sentence are pure functions here.
import type { Hex } from "viem";
import { ApiError } from "./api";
import { addr, getJson, int, list, obj, str } from "./board";
import { readPost, type Post } from "./communityThreads";

export const ACTIONS = ["hide", "unhide", "lock", "unlock", "pin", "unpin"] as const;
export type ModerationAction = (typeof ACTIONS)[number];

export interface Report {
  postId: number;
  reporter: Hex;
  reason: string;
  reportedAt: number;
}

export interface QueueItem {
  post: Post;
  reports: Report[];
}

export interface LogEntry {
  seq: number;
  communityId: number;
  postId: number;
  actor: Hex;
  /// One of ACTIONS or `resolve`.
  action: string;
  reason: string;
  at: number;
}

function readReport(v: unknown, what = "report"): Report {
  const o = obj(v, what);
  return { postId: int(o.postId, `${what}.postId`), reporter: addr(o.reporter, `${what}.reporter`), reason: str(o.reason, `${what}.reason`), reportedAt: int(o.reportedAt, `${what}.reportedAt`) };
}

export function readQueue(v: unknown): QueueItem[] {
  return list(v, "queue", (x, w) => {
    const o = obj(x, w);
    return { post: readPost(o.post, `${w}.post`), reports: list(o.reports, `${w}.reports`, readReport) };
  });
}

export function readLogEntry(v: unknown, what = "entry"): LogEntry {
  const o = obj(v, what);
  return {
    seq: int(o.seq, `${what}.seq`),
    communityId: int(o.communityId, `${what}.communityId`),
    postId: int(o.postId, `${what}.postId`),
    actor: addr(o.actor, `${what}.actor`),
    action: str(o.action, `${what}.action`),
    reason: str(o.reason, `${what}.reason`),
    at: int(o.at, `${what}.at`),
  };
}

export const readLog = (v: unknown) => list(v, "log", readLogEntry);

/// The longest reason the node keeps (moderation.rs `MAX_REASON`), in characters once trimmed.
export const MAX_REASON = 500;

/// Whether a report's or action's reason is one line of 1 to 500 characters once trimmed.
export function reasonOk(reason: string): boolean {
  const r = reason.trim();
  return r.length > 0 && [...r].length <= MAX_REASON && !/[\n\r]/.test(r);
}

/// The moderation toggles a post offers, in the order shown: hide or unhide for any post; lock or
/// unlock and pin or unpin for a thread's opening post. A deleted post offers none.
export function actionsFor(post: Pick<Post, "id" | "threadId" | "hidden" | "locked" | "pinned" | "deleted">): ModerationAction[] {
  if (post.deleted) return [];
  const out: ModerationAction[] = [post.hidden ? "unhide" : "hide"];
  if (post.id === post.threadId) out.push(post.locked ? "unlock" : "lock", post.pinned ? "unpin" : "pin");
  return out;
}

/// What a refused report or moderation action means, as a message key of the `moderation.error.`
/// family, or null when the error's own text is the best there is.
export function moderationErrorKey(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.status === 401) return "moderation.error.signIn";
  switch (e.code) {
    case "not_member":
      return "moderation.error.notMember";
    case "not_moderator":
      return "moderation.error.notModerator";
    case "already_reported":
      return "moderation.error.alreadyReported";
    case "no_change":
      return "moderation.error.noChange";
    case "no_open_reports":
      return "moderation.error.noOpenReports";
    case "user_disabled":
      return "moderation.error.disabled";
    default:
      return null;
  }
}

const json = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export const moderationApi = {
  report: (postId: number, reason: string) => getJson(`/api/posts/${postId}/reports`, (v) => readReport(v), json({ reason: reason.trim() })),
  act: (postId: number, action: ModerationAction, reason: string) =>
    getJson(`/api/posts/${postId}/moderation`, (v) => {
      const o = obj(v, "answer");
      return { post: readPost(o.post, "post"), entry: readLogEntry(o.entry) };
    }, json({ action, reason: reason.trim() })),
  resolve: (postId: number, resolution: string) =>
    getJson(`/api/posts/${postId}/reports/resolve`, (v) => ({ resolved: int(obj(v, "answer").resolved, "resolved") }), json({ resolution: resolution.trim() })),
  queue: (communityId: number, limit = 50, offset = 0) => getJson(`/api/communities/${communityId}/moderation/queue?limit=${limit}&offset=${offset}`, readQueue),
  log: (communityId: number, limit = 50, offset = 0) => getJson(`/api/communities/${communityId}/moderation/log?limit=${limit}&offset=${offset}`, readLog),
  adminQueue: (limit = 50, offset = 0) => getJson(`/api/admin/moderation/queue?limit=${limit}&offset=${offset}`, readQueue),
};
