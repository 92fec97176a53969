// A community's threads and replies as `/api/communities/{id}/threads` and `/api/threads/{id}`
// send them (crates/api/src/posts.rs: camelCase, times in unix seconds, markdown exactly as
// written — the page renders it through lib/markdown.ts, so HTML stays text), checked on the way
// in; and the writes (a thread, a reply), which need a signed-in member.
import type { Hex } from "viem";
import { ApiError, errorFromBody } from "./api";
import { addr, getJson, int, list, obj, optInt, optStr } from "./board";

export interface Post {
  id: number;
  communityId: number;
  /// The thread: equal to `id` for a thread's opening post.
  threadId: number;
  author: Hex;
  authorName: string | null;
  /// `null` for replies and deleted threads.
  title: string | null;
  /// `null` once deleted (a tombstone).
  body: string | null;
  createdAt: number;
  editedAt: number | null;
  deleted: boolean;
  hidden: boolean;
  locked: boolean;
  pinned: boolean;
  replies: number;
}

export interface ThreadList {
  threads: Post[];
  nextOffset: number | null;
  canPost: boolean;
  canModerate: boolean;
}

export interface ThreadPage {
  thread: Post;
  replies: Post[];
  nextOffset: number | null;
  canReply: boolean;
  canModerate: boolean;
}

const bool = (v: unknown) => v === true;

export function readPost(v: unknown, what = "post"): Post {
  const o = obj(v, what);
  return {
    id: int(o.id, `${what}.id`),
    communityId: int(o.communityId, `${what}.communityId`),
    threadId: int(o.threadId, `${what}.threadId`),
    author: addr(o.author, `${what}.author`),
    authorName: optStr(o.authorName, `${what}.authorName`),
    title: optStr(o.title, `${what}.title`),
    body: optStr(o.body, `${what}.body`),
    createdAt: int(o.createdAt, `${what}.createdAt`),
    editedAt: optInt(o.editedAt, `${what}.editedAt`),
    deleted: bool(o.deleted),
    hidden: bool(o.hidden),
    locked: bool(o.locked),
    pinned: bool(o.pinned),
    replies: int(o.replies ?? 0, `${what}.replies`),
  };
}

export function readThreadList(v: unknown): ThreadList {
  const o = obj(v, "answer");
  return { threads: list(o.threads, "threads", readPost), nextOffset: optInt(o.nextOffset, "nextOffset"), canPost: bool(o.canPost), canModerate: bool(o.canModerate) };
}

export function readThreadPage(v: unknown): ThreadPage {
  const o = obj(v, "answer");
  return {
    thread: readPost(o.thread, "thread"),
    replies: list(o.replies, "replies", readPost),
    nextOffset: optInt(o.nextOffset, "nextOffset"),
    canReply: bool(o.canReply),
    canModerate: bool(o.canModerate),
  };
}

/// The longest title and body the node takes (posts.rs `MAX_TITLE`, `MAX_BODY`), in characters.
export const MAX_TITLE = 120;
export const MAX_BODY = 20_000;

/// What is wrong with a new thread or reply before it is sent, or null.
export function postProblem(title: string | null, body: string): "title" | "body" | null {
  if (title !== null) {
    const t = [...title.trim()].length;
    if (t < 1 || t > MAX_TITLE || /[\n\r]/.test(title.trim())) return "title";
  }
  const b = [...body.trim()].length;
  return b < 1 || b > MAX_BODY ? "body" : null;
}

async function send(path: string, body: unknown): Promise<Post> {
  let res: Response;
  try {
    res = await fetch(path, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) throw errorFromBody(res.status, parsed ?? { message: text.slice(0, 200) });
  return readPost(parsed);
}

export const threadsApi = {
  list: (communityId: number, limit: number, offset: number) => getJson(`/api/communities/${communityId}/threads?limit=${limit}&offset=${offset}`, readThreadList),
  page: (threadId: number, limit: number, offset: number) => getJson(`/api/threads/${threadId}?limit=${limit}&offset=${offset}`, readThreadPage),
  create: (communityId: number, title: string, body: string) => send(`/api/communities/${communityId}/threads`, { title: title.trim(), body }),
  reply: (threadId: number, body: string) => send(`/api/threads/${threadId}/replies`, { body }),
};
