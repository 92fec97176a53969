// The client side of the pay-per-chunk conversation (docs/assistant-payments.md), as pure state:
// a conversation is a list of turns, each the person's message and the assistant's reply; a reply
// moves starting → streaming → done (or failed: the node stopped it; refused: the page would not
// pay it). Every `chunk` is checked (voucher.ts) before it becomes `pending`, the one amount the
// page may sign next; a signed voucher stays `unacked` until `paid` says the ledger stored it, and
// is sent again on `resume` after a dropped socket. Chunks are numbered: one already held is
// ignored (a resume replays), one out of order stops the reply. The hook (useAssistant) does the
// I/O: it sends what `startMessage` / `resumeMessage` build and signs `pending`. The conversation
// is kept per wallet (and chain) in localStorage, bounded, so a reload restores it.
import type { ChatMessage, ClientMsg, FinishReason, ServerMsg, VoucherMsg } from "./assistant";
import { replyCost, type Prices } from "./pricing";
import type { Store } from "./sessionKeys";
import { checkBase, checkChunk, refusalOf, type ChannelFacts, type Refusal } from "./voucher";

type Hex = `0x${string}`;

export type Phase = "starting" | "streaming" | "done" | "failed" | "refused";

export interface ReplyChunk {
  seq: number;
  tokens: number;
  cost: bigint;
  cumulative: bigint;
  /// The signature this page sent for it, if any.
  signature: Hex | null;
  /// The ledger stored a voucher covering it.
  paid: boolean;
}

export interface NodeError {
  code: string;
  message: string;
  owed: bigint | null;
  deposit: bigint | null;
  expiry: number | null;
}

export interface Reply {
  requestId: string;
  channelId: Hex;
  model: string;
  prices: Prices;
  maxTokens: number;
  /// The conversation sent with `start` (sent again, unchanged, when the start must be repeated).
  messages: ChatMessage[];
  phase: Phase;
  base: bigint | null;
  promptTokens: number | null;
  maxCost: bigint | null;
  text: string;
  lastSeq: number;
  completionTokens: number;
  /// The reply's cost so far (its last checked chunk's).
  cost: bigint;
  chunks: ReplyChunk[];
  /// The chunk waiting for a voucher, and the amount to sign for it (checked).
  pending: { seq: number; amount: bigint } | null;
  /// Signed and sent, not yet acknowledged by `paid`.
  unacked: VoucherMsg | null;
  /// The channel's accepted total after the last `paid`.
  accepted: bigint | null;
  finish: FinishReason | null;
  error: NodeError | null;
  refusal: Refusal | null;
  /// The person pressed Stop.
  stopRequested: boolean;
}

export interface Turn {
  prompt: string;
  reply: Reply;
}

export interface NewReply {
  requestId: string;
  channelId: Hex;
  model: string;
  prices: Prices;
  maxTokens: number;
  messages: ChatMessage[];
}

export function newReply(r: NewReply): Reply {
  return {
    ...r,
    phase: "starting",
    base: null,
    promptTokens: null,
    maxCost: null,
    text: "",
    lastSeq: 0,
    completionTokens: 0,
    cost: 0n,
    chunks: [],
    pending: null,
    unacked: null,
    accepted: null,
    finish: null,
    error: null,
    refusal: null,
    stopRequested: false,
  };
}

/// The messages a new reply sends: every earlier turn (the person's message and what the assistant
/// delivered of its reply) and the new message.
export function conversationMessages(turns: readonly Turn[], prompt: string, system?: string): ChatMessage[] {
  const out: ChatMessage[] = system ? [{ role: "system", content: system }] : [];
  for (const t of turns) {
    out.push({ role: "user", content: t.prompt });
    if (t.reply.text) out.push({ role: "assistant", content: t.reply.text });
  }
  out.push({ role: "user", content: prompt });
  return out;
}

export function startMessage(r: Reply, voucher?: VoucherMsg): ClientMsg {
  return {
    type: "start",
    requestId: r.requestId,
    channelId: r.channelId,
    model: r.model,
    messages: r.messages,
    maxTokens: r.maxTokens,
    prices: { prompt: r.prices.promptPer1k.toString(), completion: r.prices.completionPer1k.toString() },
    ...(voucher ? { voucher } : {}),
  };
}

/// The reply still needs the socket: it is streaming, or a voucher it sent was never acknowledged.
export function isLive(r: Reply): boolean {
  return r.phase === "starting" || r.phase === "streaming" || (r.phase === "done" && r.unacked !== null);
}

/// What to send for `r` after the socket reconnects: the same `start` when the node never said
/// `started` (the request id makes it idempotent), else `resume` with the last chunk held and the
/// voucher not yet acknowledged. `null` when the reply needs nothing more.
export function resumeMessage(r: Reply): ClientMsg | null {
  if (!isLive(r)) return null;
  if (r.phase === "starting") return startMessage(r);
  return { type: "resume", requestId: r.requestId, received: r.lastSeq, ...(r.unacked ? { voucher: r.unacked } : {}) };
}

function nodeError(msg: Extract<ServerMsg, { type: "error" }>): NodeError {
  return {
    code: msg.code,
    message: msg.message,
    owed: msg.owed !== undefined ? BigInt(msg.owed) : null,
    deposit: msg.deposit !== undefined ? BigInt(msg.deposit) : null,
    expiry: msg.expiry ?? null,
  };
}

/// What the page knows of the channel when a message arrives.
export interface ChannelView extends ChannelFacts {
  /// This browser holds a voucher record for the channel (so `highestSigned` is meaningful).
  hasRecord: boolean;
}

/// The reply after one message from the node.
export function receive(r: Reply, msg: ServerMsg, channel: ChannelView): Reply {
  if (r.phase === "refused") return r; // the page stopped paying: nothing the node says changes that
  switch (msg.type) {
    case "started": {
      const base = BigInt(msg.base);
      if (r.base !== null) {
        // sent again after a resume: the terms cannot change mid-reply
        if (r.base !== base || r.promptTokens !== msg.promptTokens) {
          return { ...r, phase: "refused", refusal: { reason: "price_mismatch", amount: base, expected: r.base } };
        }
        return r;
      }
      const check = checkBase(base, channel, channel.hasRecord);
      if (!check.ok) return { ...r, phase: "refused", refusal: refusalOf(check), base, promptTokens: msg.promptTokens };
      return { ...r, phase: "streaming", base, promptTokens: msg.promptTokens, maxCost: BigInt(msg.maxCost) };
    }
    case "chunk": {
      if (msg.seq <= r.lastSeq) return r; // a duplicate (replayed after a resume): keep the first
      if (r.base === null || r.promptTokens === null || msg.seq !== r.lastSeq + 1) {
        return { ...r, phase: "refused", refusal: { reason: "out_of_order", seq: msg.seq, expected: r.lastSeq + 1 } };
      }
      const completionTokens = r.completionTokens + msg.tokens;
      const cost = BigInt(msg.cost);
      const cumulative = BigInt(msg.cumulative);
      const withText = { ...r, text: r.text + msg.text, lastSeq: msg.seq, completionTokens };
      const check = checkChunk({ base: r.base, promptTokens: r.promptTokens, prices: r.prices }, { completionTokens, cost, cumulative }, channel);
      if (!check.ok) return { ...withText, phase: "refused", refusal: refusalOf(check), pending: null };
      return {
        ...withText,
        phase: r.phase === "starting" ? "streaming" : r.phase,
        cost,
        chunks: [...r.chunks, { seq: msg.seq, tokens: msg.tokens, cost, cumulative, signature: null, paid: false }],
        pending: { seq: msg.seq, amount: cumulative },
      };
    }
    case "paid": {
      const accepted = BigInt(msg.accepted);
      const unacked = r.unacked && BigInt(r.unacked.amount) <= accepted ? null : r.unacked;
      const pending = r.pending && r.pending.amount <= accepted ? null : r.pending;
      return {
        ...r,
        accepted: r.accepted !== null && r.accepted > accepted ? r.accepted : accepted,
        unacked,
        pending,
        chunks: r.chunks.map((c) => (c.cumulative <= accepted && !c.paid ? { ...c, paid: true } : c)),
      };
    }
    case "done": {
      const doneCost = BigInt(msg.cost);
      // The node's summary must agree with the tokens it delivered and the price.
      if (r.promptTokens !== null && doneCost !== replyCost(r.promptTokens, msg.completionTokens, r.prices)) {
        return { ...r, phase: "refused", pending: null, refusal: { reason: "price_mismatch", amount: doneCost, expected: replyCost(r.promptTokens, msg.completionTokens, r.prices) } };
      }
      return { ...r, phase: "done", finish: msg.finish, cost: doneCost };
    }
    case "error": {
      const error = nodeError(msg);
      // After a payment timeout the unpaid chunk stays billed and may still be paid; after a closed
      // channel nothing is ever paid again.
      const keepPending = error.code === "payment_timeout";
      return { ...r, phase: "failed", error, pending: keepPending ? r.pending : null };
    }
  }
}

/// The reply after the page signed and sent `voucher` for its pending chunk.
export function signed(r: Reply, voucher: VoucherMsg): Reply {
  const amount = BigInt(voucher.amount);
  return {
    ...r,
    unacked: voucher,
    pending: r.pending && r.pending.amount <= amount ? null : r.pending,
    chunks: r.chunks.map((c) => (c.cumulative === amount ? { ...c, signature: voucher.signature } : c)),
  };
}

/// The reply when the page refuses to go on paying it.
export function refused(r: Reply, refusal: Refusal): Reply {
  return { ...r, phase: "refused", refusal, pending: null };
}

// ---------------------------------------------------------------- the conversation

export interface Conversation {
  turns: Turn[];
  /// The storage key the turns belong to (a wallet on a chain, `conversationKey`); `null` before
  /// one is loaded. Carried in the state so that turns are never saved under another wallet's key.
  owner: string | null;
}

export type ConversationAction =
  | { type: "send"; prompt: string; reply: Reply }
  | { type: "server"; msg: ServerMsg; channel: ChannelView }
  | { type: "signed"; requestId: string; voucher: VoucherMsg }
  | { type: "refused"; requestId: string; refusal: Refusal }
  | { type: "stop"; requestId: string }
  | { type: "clear" }
  | { type: "load"; owner: string | null; turns: Turn[] };

export const emptyConversation: Conversation = { turns: [], owner: null };

function mapReply(c: Conversation, requestId: string, f: (r: Reply) => Reply): Conversation {
  let changed = false;
  const turns = c.turns.map((t) => {
    if (t.reply.requestId !== requestId) return t;
    const reply = f(t.reply);
    if (reply === t.reply) return t;
    changed = true;
    return { ...t, reply };
  });
  return changed ? { ...c, turns } : c;
}

/// The reply streaming now (one at a time per channel, and the page runs one at a time).
export function activeReply(c: Conversation): Reply | null {
  for (let i = c.turns.length - 1; i >= 0; i--) if (isLive(c.turns[i].reply)) return c.turns[i].reply;
  return null;
}

export function conversationReducer(c: Conversation, a: ConversationAction): Conversation {
  switch (a.type) {
    case "send":
      return { ...c, turns: [...c.turns, { prompt: a.prompt, reply: a.reply }] };
    case "server": {
      // An error about no particular request concerns the reply in flight, if any.
      const id = a.msg.requestId ?? activeReply(c)?.requestId ?? lastStarting(c);
      if (!id) return c;
      return mapReply(c, id, (r) => receive(r, a.msg, a.channel));
    }
    case "signed":
      return mapReply(c, a.requestId, (r) => signed(r, a.voucher));
    case "refused":
      return mapReply(c, a.requestId, (r) => refused(r, a.refusal));
    case "stop":
      return mapReply(c, a.requestId, (r) => ({ ...r, stopRequested: true }));
    case "clear":
      return { turns: [], owner: c.owner };
    case "load":
      return { turns: a.turns, owner: a.owner };
  }
}

function lastStarting(c: Conversation): string | undefined {
  const last = c.turns[c.turns.length - 1];
  return last?.reply.phase === "starting" ? last.reply.requestId : undefined;
}

// ---------------------------------------------------------------- kept across reloads

/// At most this many turns are kept (the newest), and at most this many characters of JSON: the
/// oldest turns go first. localStorage is small and the session keys share it.
export const MAX_KEPT_TURNS = 50;
export const MAX_KEPT_CHARS = 200_000;
const KEPT_VERSION = 1;

/// Where the conversation of `address` on `chainId` is kept.
export function conversationKey(chainId: number, address: string): string {
  return `agora.assistant.conversation.${chainId}.${address.toLowerCase()}`;
}

/// The turn as it is kept: a finished reply keeps its text, tokens, cost and outcome but not the
/// request's messages (the earlier turns again) or its chunk records; a reply that still needs the
/// node (streaming, or a voucher not acknowledged) or may be sent again (failed, refused) keeps them,
/// so after a reload it resumes or retries as it would have.
function keptTurn(t: Turn): Turn {
  const r = t.reply;
  if (isLive(r)) return t;
  const retryable = r.phase === "failed" || r.phase === "refused";
  return { prompt: t.prompt, reply: { ...r, chunks: [], messages: retryable ? r.messages : [] } };
}

// Amounts are bigints; JSON has no such type, so they travel as `{"$n": "<decimal>"}`.
const toJson = (_: string, v: unknown) => (typeof v === "bigint" ? { $n: v.toString() } : v);
const fromJson = (_: string, v: unknown) =>
  v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { $n?: unknown }).$n === "string" && /^[0-9]{1,78}$/.test((v as { $n: string }).$n)
    ? BigInt((v as { $n: string }).$n)
    : v;

/// The turns as kept: the newest `maxTurns`, then fewer while the JSON is over `maxChars` (none at
/// all when even the newest turn alone is).
export function serializeTurns(turns: readonly Turn[], maxTurns = MAX_KEPT_TURNS, maxChars = MAX_KEPT_CHARS): string {
  let kept = turns.slice(Math.max(0, turns.length - maxTurns)).map(keptTurn);
  for (;;) {
    const text = JSON.stringify({ v: KEPT_VERSION, turns: kept }, toJson);
    if (text.length <= maxChars || kept.length === 0) return text;
    kept = kept.slice(1);
  }
}

function isTurn(t: unknown): t is Turn {
  if (!t || typeof t !== "object") return false;
  const { prompt, reply } = t as Partial<Turn>;
  return (
    typeof prompt === "string" &&
    !!reply &&
    typeof reply.requestId === "string" &&
    typeof reply.channelId === "string" &&
    typeof reply.text === "string" &&
    typeof reply.phase === "string" &&
    typeof reply.cost === "bigint" &&
    typeof reply.prices?.promptPer1k === "bigint" &&
    typeof reply.prices?.completionPer1k === "bigint" &&
    Array.isArray(reply.chunks) &&
    Array.isArray(reply.messages)
  );
}

/// The turns kept in `text`; none for anything unreadable (another version, a damaged value).
export function parseTurns(text: string | null): Turn[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text, fromJson);
    if (!v || typeof v !== "object" || (v as { v?: unknown }).v !== KEPT_VERSION) return [];
    const turns = (v as { turns?: unknown }).turns;
    return Array.isArray(turns) && turns.every(isTurn) ? turns : [];
  } catch {
    return [];
  }
}

/// The conversation kept under `key`.
export function loadConversation(store: Store, key: string): Conversation {
  return { owner: key, turns: parseTurns(store.get(key)) };
}

/// Keeps `c` under its owner's key (an empty conversation removes the key).
export function saveConversation(store: Store, c: Conversation): void {
  if (!c.owner) return;
  store.set(c.owner, c.turns.length ? serializeTurns(c.turns) : null);
}
