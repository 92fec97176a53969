// The AI assistant's side of the node's API, in one place: the REST shapes (models and prices, a
// channel's account with the assistant, the admin endpoints) and the WebSocket messages of
// docs/assistant-payments.md, written as the node writes them (camelCase, amounts as decimal
// strings of the token's smallest unit). These endpoints are not in crates/api/openapi.json yet;
// when they are, the shapes here should become names for the generated types, as in api.ts.
import { ApiError, errorFromBody } from "./api";

type Hex = `0x${string}`;

export interface ModelPricing {
  /// `0x000…0` for ETH.
  token: Hex;
  /// Per 1,000 prompt tokens, smallest unit, decimal.
  promptPer1k: string;
  /// Per 1,000 completion tokens, smallest unit, decimal.
  completionPer1k: string;
}

export interface AssistantModel {
  id: string;
  contextTokens: number;
  pricing: ModelPricing;
}

/// `GET /api/assistant/models`.
export interface AssistantModels {
  /// Channels must pay this address.
  payee: Hex;
  chainId: number;
  /// The PaymentChannel contract.
  channelContract: Hex;
  models: AssistantModel[];
}

export interface ChunkRecord {
  seq: number;
  tokens: number;
  cost: string;
  cumulative: string;
}

export interface ReplyRecord {
  requestId: string;
  model: string;
  /// `running`, `done` or `stopped`.
  status: string;
  finish: string | null;
  promptTokens: number;
  completionTokens: number;
  cost: string;
  base: string;
  createdAt: number;
  chunks: ChunkRecord[];
}

/// `GET /api/assistant/channels/{id}`: what the node billed and what its ledger accepted.
export interface AssistantAccount {
  channelId: Hex;
  billed: string;
  accepted: string;
  replies: ReplyRecord[];
}

export interface AdminUser {
  address: Hex;
  disabled: boolean;
  firstSeen: number;
  replies: number;
  completionTokens: number;
}

/// A channel as `/api/admin/channels` lists it: the chain's view plus the assistant's account.
export interface AdminChannel {
  channelId: Hex;
  payer: Hex;
  payee?: Hex;
  token?: Hex;
  deposit: string;
  expiry?: number;
  state?: string;
  billed: string;
  accepted: string;
  /// The latest settlement attempt: `sending`, `closed`, `already-finished`, `failed`, `expired`.
  settlement?: string | null;
}

export interface JobRunRecord {
  startedAtMs: number;
  finishedAtMs: number;
  channelsTouched: number;
  errors: string[];
}

export interface AdminJob {
  name: string;
  paused: boolean;
  runs: JobRunRecord[];
}

/// What an admin's "settle now" came to, as shown beside the channel.
export type SettleOutcome =
  /// Closed on chain with its highest voucher.
  | { kind: "settled" }
  /// The node could not close it: its reasons (a contract error, no voucher, already closed), or
  /// the request's own failure.
  | { kind: "failed"; message: string };

/// The outcome of `POST /api/admin/channels/{id}/settle` from the run it answers with: the node
/// answers 200 even when the channel could not be closed, with the reasons in `errors` (each
/// prefixed with the channel id, dropped here: the outcome is shown beside that channel).
export function settleOutcome(channelId: string, run: unknown): SettleOutcome {
  const r = run as Partial<JobRunRecord> | null;
  if (!r || typeof r !== "object" || !Array.isArray(r.errors) || typeof r.channelsTouched !== "number") {
    return { kind: "failed", message: `unexpected answer: ${JSON.stringify(run)?.slice(0, 200)}` };
  }
  const prefix = `${channelId.toLowerCase()}: `;
  const errors = r.errors.map((e) => (String(e).toLowerCase().startsWith(prefix) ? String(e).slice(prefix.length) : String(e)));
  if (errors.length) return { kind: "failed", message: errors.join("; ") };
  if (r.channelsTouched > 0) return { kind: "settled" };
  return { kind: "failed", message: "nothing was settled" };
}

/// The two jobs the admin page drives.
export const JOB_NAMES = ["channel-auto-settle", "channel-expiry"] as const;

/// The jobs as the page shows them. The node answers `[{name, paused, runs}]`; an older node
/// answers a flat list of runs `[{job, startedAtMs, …}]`, grouped here by job (not paused).
export function normaliseJobs(body: unknown): AdminJob[] {
  if (!Array.isArray(body)) return [];
  const jobs = new Map<string, AdminJob>();
  for (const name of JOB_NAMES) jobs.set(name, { name, paused: false, runs: [] });
  for (const item of body as Record<string, unknown>[]) {
    if (!item || typeof item !== "object") continue;
    if (typeof item.name === "string") {
      jobs.set(item.name, {
        name: item.name,
        paused: item.paused === true,
        runs: Array.isArray(item.runs) ? (item.runs as JobRunRecord[]) : [],
      });
    } else if (typeof item.job === "string") {
      const job = jobs.get(item.job) ?? { name: item.job, paused: false, runs: [] };
      job.runs.push(item as unknown as JobRunRecord);
      jobs.set(item.job, job);
    }
  }
  return [...jobs.values()];
}

// ---------------------------------------------------------------- WebSocket messages

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface VoucherMsg {
  amount: string;
  signature: Hex;
}

export type ClientMsg =
  | {
      type: "start";
      requestId: string;
      channelId: Hex;
      model: string;
      messages: ChatMessage[];
      maxTokens: number;
      prices: { prompt: string; completion: string };
      voucher?: VoucherMsg;
    }
  | { type: "voucher"; requestId: string; amount: string; signature: Hex }
  | { type: "resume"; requestId: string; received: number; voucher?: VoucherMsg }
  | { type: "stop"; requestId: string };

export type FinishReason = "stop" | "length" | "stopped";

/// Every code the node may send (docs/assistant-payments.md, plus `unknown_request` and `internal`
/// that crates/assistant also sends).
export const ERROR_CODES = [
  "bad_message",
  "unknown_model",
  "terms_changed",
  "unknown_channel",
  "not_your_channel",
  "user_disabled",
  "channel_closed",
  "expiring",
  "expired",
  "deposit_spent",
  "busy",
  "owed",
  "voucher_refused",
  "payment_timeout",
  "idempotency_conflict",
  "unknown_request",
  "model",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ServerMsg =
  | { type: "started"; requestId: string; base: string; promptTokens: number; maxCost: string }
  | { type: "chunk"; requestId: string; seq: number; text: string; tokens: number; cost: string; cumulative: string }
  | { type: "paid"; requestId: string; seq?: number; accepted: string }
  | {
      type: "done";
      requestId: string;
      finish: FinishReason;
      promptTokens: number;
      completionTokens: number;
      cost: string;
      cumulative: string;
    }
  | {
      type: "error";
      requestId?: string;
      code: ErrorCode | string;
      message: string;
      owed?: string;
      deposit?: string;
      expiry?: number;
    };

const DECIMAL = /^[0-9]{1,78}$/;
const isDec = (v: unknown): v is string => typeof v === "string" && DECIMAL.test(v);
const isNat = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === "string";

/// One frame from the node, checked field by field; `null` for anything that is not a message of
/// the protocol (the page ignores it rather than act on a half-read frame).
export function parseServerMsg(frame: string): ServerMsg | null {
  let v: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(frame);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    v = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  switch (v.type) {
    case "started":
      return isStr(v.requestId) && isDec(v.base) && isNat(v.promptTokens) && isDec(v.maxCost)
        ? (v as unknown as ServerMsg)
        : null;
    case "chunk":
      return isStr(v.requestId) && isNat(v.seq) && v.seq >= 1 && isStr(v.text) && isNat(v.tokens) && isDec(v.cost) && isDec(v.cumulative)
        ? (v as unknown as ServerMsg)
        : null;
    case "paid":
      return isStr(v.requestId) && isDec(v.accepted) && (v.seq === undefined || isNat(v.seq)) ? (v as unknown as ServerMsg) : null;
    case "done":
      return isStr(v.requestId) &&
        (v.finish === "stop" || v.finish === "length" || v.finish === "stopped") &&
        isNat(v.promptTokens) &&
        isNat(v.completionTokens) &&
        isDec(v.cost) &&
        isDec(v.cumulative)
        ? (v as unknown as ServerMsg)
        : null;
    case "error":
      return isStr(v.code) &&
        isStr(v.message) &&
        (v.requestId === undefined || isStr(v.requestId)) &&
        (v.owed === undefined || isDec(v.owed)) &&
        (v.deposit === undefined || isDec(v.deposit)) &&
        (v.expiry === undefined || isNat(v.expiry))
        ? (v as unknown as ServerMsg)
        : null;
    default:
      return null;
  }
}

/// The WebSocket URL of the conversation, same origin as the page.
export function wsUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/assistant/ws`;
}

// ---------------------------------------------------------------- REST

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch (e) {
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw errorFromBody(res.status, body ?? { message: text.slice(0, 200) });
  return body as T;
}

const post = <T = void>(path: string) => request<T>(path, { method: "POST" });
const seg = (s: string) => encodeURIComponent(s);

export const assistantApi = {
  models: () => request<AssistantModels>("/api/assistant/models"),
  account: (channelId: string) => request<AssistantAccount>(`/api/assistant/channels/${seg(channelId)}`),
};

export const adminApi = {
  users: () => request<AdminUser[]>("/api/admin/users"),
  disableUser: (address: string) => post(`/api/admin/users/${seg(address)}/disable`),
  enableUser: (address: string) => post(`/api/admin/users/${seg(address)}/enable`),
  channels: () => request<AdminChannel[]>("/api/admin/channels"),
  /// The run the settlement was recorded as; read it with `settleOutcome`.
  settle: (channelId: string) => post<unknown>(`/api/admin/channels/${seg(channelId)}/settle`),
  jobs: async () => normaliseJobs(await request<unknown>("/api/admin/jobs")),
  jobAction: (name: string, action: "run" | "pause" | "resume") => post<unknown>(`/api/admin/jobs/${seg(name)}/${action}`),
};

/// The node refused because the signed-in wallet is not an admin.
export function isNotAdmin(e: unknown): boolean {
  return e instanceof ApiError && e.status === 403;
}

/// The node asked for a sign-in first (no session, or it expired).
export function needsSignIn(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401;
}
