// The community task market's HTTP shapes (issue 15): tasks, claims, timelines, the board's
// configuration and an account's tasks and points, as `/api/board/*` and `/api/accounts/{a}/board`
// send them (camelCase, amounts as decimal strings, times in unix seconds). Typed here by hand from
// the agreed shapes until crates/api/openapi.json describes them; every answer is checked on the
// way in (a malformed one is a clear error, not a page that draws `undefined`).
import type { Hex } from "viem";
import { ApiError, errorFromBody } from "./api";

export const CLAIM_STATES = ["working", "submitted", "rejected", "disputed", "approved", "resolved", "removed", "closed"] as const;
export type ClaimState = (typeof CLAIM_STATES)[number];
export const TASK_STATES = ["open", "cancelled"] as const;
export type BoardTaskState = (typeof TASK_STATES)[number];
export const TIMELINE_KINDS = [
  "published",
  "deadlineExtended",
  "accepted",
  "submitted",
  "approved",
  "rejected",
  "disputeOpened",
  "disputeResolved",
  "workerRemoved",
  "rejectionClosed",
  "cancelled",
  "refunded",
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface BoardTask {
  id: number;
  publisher: Hex;
  communityId: number | null;
  /// The reward's token; the zero address is ETH.
  token: Hex;
  rewardPerSlot: string;
  /// rewardPerSlot × slots.
  reward: string;
  slots: number;
  freeSlots: number;
  /// Community points minted to each approved worker.
  points: string;
  deadline: number;
  reviewWindow: number;
  workTimeout: number;
  maxRevisions: number;
  arbiter: Hex;
  /// The description's CID or URI.
  spec: string;
  state: BoardTaskState;
  /// Whether work was ever submitted (the contract's flag: cancelling is refused for good); absent
  /// from an answer that does not carry it.
  submitted?: boolean;
  publishedAt: number;
  publishedTx: Hex;
  counts: Record<ClaimState, number>;
  /// Refunded to the publisher so far.
  refunded: string;
}

export interface Claim {
  worker: Hex;
  state: ClaimState;
  revisions: number;
  acceptedAt: number;
  /// When the claim entered its current state.
  since: number;
  deliverable: string | null;
  /// While submitted: from then on anyone may approve it.
  reviewEndsAt: number | null;
  /// While rejected: the worker's last moment to revise or dispute.
  answerEndsAt: number | null;
  rejectionReason: string | null;
  disputeReason: string | null;
  paid: string;
  pointsMinted: string;
}

export interface BoardTimelineEntry {
  kind: TimelineKind;
  at: number;
  block: number;
  tx: Hex;
  worker: Hex | null;
  detail: Record<string, string | number | boolean>;
}

export interface TaskDetail {
  task: BoardTask;
  claims: Claim[];
  timeline: BoardTimelineEntry[];
}

export interface BoardConfig {
  taskBoard: Hex;
  communities: Hex;
  /// How long a rejected worker has to revise or dispute (fixed at deployment).
  answerWindow: number;
  maxSlots: number;
  maxReviewWindow: number;
  maxTaskDuration: number;
  platformArbiter: Hex;
}

export interface AccountBoard {
  published: BoardTask[];
  working: { task: BoardTask; claim: Claim }[];
  points: { communityId: number; name: string; symbol: string; balance: string }[];
  /// Communities the account is a member of.
  communities: number[];
}

export interface TaskFilter {
  community?: number | null;
  state?: BoardTaskState | null;
  publisher?: string | null;
  worker?: string | null;
  token?: string | null;
  limit?: number;
  offset?: number;
}

// ---------------------------------------------------------------- reading answers

/// A field of the wrong kind in an answer.
export class ShapeError extends Error {}

type Raw = Record<string, unknown>;

export function obj(v: unknown, what: string): Raw {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ShapeError(`${what} is not an object`);
  return v as Raw;
}
export function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new ShapeError(`${what} is not a count`);
  return v;
}
export function optInt(v: unknown, what: string): number | null {
  return v === null || v === undefined ? null : int(v, what);
}
/// An amount: a decimal string of the smallest unit.
export function amount(v: unknown, what: string): string {
  if (typeof v !== "string" || !/^[0-9]+$/.test(v)) throw new ShapeError(`${what} is not a decimal amount`);
  return v;
}
export function addr(v: unknown, what: string): Hex {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw new ShapeError(`${what} is not an address`);
  return v.toLowerCase() as Hex;
}
export function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new ShapeError(`${what} is not text`);
  return v;
}
export function optStr(v: unknown, what: string): string | null {
  return v === null || v === undefined ? null : str(v, what);
}
export function list<T>(v: unknown, what: string, each: (x: unknown, what: string) => T): T[] {
  if (!Array.isArray(v)) throw new ShapeError(`${what} is not a list`);
  return v.map((x, i) => each(x, `${what}[${i}]`));
}
function oneOf<T extends string>(v: unknown, options: readonly T[], what: string): T {
  if (typeof v !== "string" || !(options as readonly string[]).includes(v)) throw new ShapeError(`${what} is not one of ${options.join(", ")}`);
  return v as T;
}

export function readTask(v: unknown, what = "task"): BoardTask {
  const o = obj(v, what);
  const c = obj(o.counts, `${what}.counts`);
  const counts = Object.fromEntries(CLAIM_STATES.map((s) => [s, int(c[s] ?? 0, `${what}.counts.${s}`)])) as Record<ClaimState, number>;
  return {
    id: int(o.id, `${what}.id`),
    publisher: addr(o.publisher, `${what}.publisher`),
    communityId: optInt(o.communityId, `${what}.communityId`),
    token: addr(o.token, `${what}.token`),
    rewardPerSlot: amount(o.rewardPerSlot, `${what}.rewardPerSlot`),
    reward: amount(o.reward, `${what}.reward`),
    slots: int(o.slots, `${what}.slots`),
    freeSlots: int(o.freeSlots, `${what}.freeSlots`),
    points: amount(o.points ?? "0", `${what}.points`),
    deadline: int(o.deadline, `${what}.deadline`),
    reviewWindow: int(o.reviewWindow, `${what}.reviewWindow`),
    workTimeout: int(o.workTimeout, `${what}.workTimeout`),
    maxRevisions: int(o.maxRevisions, `${what}.maxRevisions`),
    arbiter: addr(o.arbiter, `${what}.arbiter`),
    spec: str(o.spec, `${what}.spec`),
    state: oneOf(o.state, TASK_STATES, `${what}.state`),
    ...(typeof o.submitted === "boolean" ? { submitted: o.submitted } : {}),
    publishedAt: int(o.publishedAt, `${what}.publishedAt`),
    publishedTx: str(o.publishedTx, `${what}.publishedTx`) as Hex,
    counts,
    refunded: amount(o.refunded ?? "0", `${what}.refunded`),
  };
}

export function readClaim(v: unknown, what = "claim"): Claim {
  const o = obj(v, what);
  return {
    worker: addr(o.worker, `${what}.worker`),
    state: oneOf(o.state, CLAIM_STATES, `${what}.state`),
    revisions: int(o.revisions, `${what}.revisions`),
    acceptedAt: int(o.acceptedAt, `${what}.acceptedAt`),
    since: int(o.since, `${what}.since`),
    deliverable: optStr(o.deliverable, `${what}.deliverable`),
    reviewEndsAt: optInt(o.reviewEndsAt, `${what}.reviewEndsAt`),
    answerEndsAt: optInt(o.answerEndsAt, `${what}.answerEndsAt`),
    rejectionReason: optStr(o.rejectionReason, `${what}.rejectionReason`),
    disputeReason: optStr(o.disputeReason, `${what}.disputeReason`),
    paid: amount(o.paid ?? "0", `${what}.paid`),
    pointsMinted: amount(o.pointsMinted ?? "0", `${what}.pointsMinted`),
  };
}

function readEntry(v: unknown, what: string): BoardTimelineEntry {
  const o = obj(v, what);
  const detail = o.detail === undefined || o.detail === null ? {} : obj(o.detail, `${what}.detail`);
  return {
    kind: oneOf(o.kind, TIMELINE_KINDS, `${what}.kind`),
    at: int(o.at, `${what}.at`),
    block: int(o.block, `${what}.block`),
    tx: str(o.tx, `${what}.tx`) as Hex,
    worker: o.worker === null || o.worker === undefined ? null : addr(o.worker, `${what}.worker`),
    detail: Object.fromEntries(Object.entries(detail).filter(([, x]) => ["string", "number", "boolean"].includes(typeof x))) as BoardTimelineEntry["detail"],
  };
}

export function readTaskDetail(v: unknown): TaskDetail {
  const o = obj(v, "answer");
  return { task: readTask(o.task), claims: list(o.claims, "claims", readClaim), timeline: list(o.timeline, "timeline", readEntry) };
}

export function readConfig(v: unknown): BoardConfig {
  const o = obj(v, "config");
  return {
    taskBoard: addr(o.taskBoard, "taskBoard"),
    communities: addr(o.communities, "communities"),
    answerWindow: int(o.answerWindow, "answerWindow"),
    maxSlots: int(o.maxSlots, "maxSlots"),
    maxReviewWindow: int(o.maxReviewWindow, "maxReviewWindow"),
    maxTaskDuration: int(o.maxTaskDuration, "maxTaskDuration"),
    platformArbiter: addr(o.platformArbiter, "platformArbiter"),
  };
}

export function readAccountBoard(v: unknown): AccountBoard {
  const o = obj(v, "answer");
  return {
    published: list(o.published, "published", readTask),
    working: list(o.working, "working", (x, w) => {
      const e = obj(x, w);
      return { task: readTask(e.task, `${w}.task`), claim: readClaim(e.claim, `${w}.claim`) };
    }),
    points: list(o.points, "points", (x, w) => {
      const e = obj(x, w);
      return { communityId: int(e.communityId, `${w}.communityId`), name: str(e.name, `${w}.name`), symbol: str(e.symbol, `${w}.symbol`), balance: amount(e.balance, `${w}.balance`) };
    }),
    communities: list(o.communities, "communities", int),
  };
}

// ---------------------------------------------------------------- the calls

/// GET `path`, its JSON read by `parse`; the API's errors as `ApiError`, a malformed answer as one
/// with the code `bad_answer`.
export async function getJson<T>(path: string, parse: (raw: unknown) => T, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch (e) {
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw errorFromBody(res.status, body ?? { message: text.slice(0, 200) });
  try {
    return parse(body);
  } catch (e) {
    throw new ApiError(res.status, "bad_answer", `${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/// The query string of a task filter (empty fields left out, addresses in lower case).
export function taskQuery(f: TaskFilter): string {
  const q = new URLSearchParams();
  if (f.community !== null && f.community !== undefined) q.set("community", String(f.community));
  if (f.state) q.set("state", f.state);
  if (f.publisher) q.set("publisher", f.publisher.toLowerCase());
  if (f.worker) q.set("worker", f.worker.toLowerCase());
  if (f.token) q.set("token", f.token.toLowerCase());
  if (f.limit !== undefined) q.set("limit", String(f.limit));
  if (f.offset !== undefined) q.set("offset", String(f.offset));
  return q.toString();
}

export const boardApi = {
  tasks: (f: TaskFilter) => getJson(`/api/board/tasks?${taskQuery(f)}`, (v) => list(obj(v, "answer").tasks, "tasks", readTask)),
  task: (id: number) => getJson(`/api/board/tasks/${id}`, readTaskDetail),
  config: () => getJson("/api/board/config", readConfig),
  account: (address: string) => getJson(`/api/accounts/${address.toLowerCase()}/board`, readAccountBoard),
  /// A task's description as text (markdown), read from the content store.
  specText: async (cid: string): Promise<string> => {
    const res = await fetch(`/ipfs/${encodeURIComponent(cid)}`);
    if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, `/ipfs/${cid}: HTTP ${res.status}`);
    return res.text();
  },
};
