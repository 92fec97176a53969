// The federated-learning market's HTTP shapes (issue 14), in one module: tasks, accounts, rounds,
// logs, results, predictions, the faucet and task specs. The node's `/api/fl/*` endpoints are not
// described by openapi.json yet, so each answer is read here by hand: keys are accepted in
// snake_case or camelCase, amounts are decimal strings turned into bigints, addresses are kept
// lower-case, and anything missing or malformed is refused with a sentence naming the field. When
// the endpoints land in openapi.json, these readers become the one place to adapt.
import type { Hex } from "viem";
import { api, errorFromBody, ApiError, type NetworkInfo } from "./api";
import { parseUnitsString } from "./format";

/// How the trainers are paid: `reward` (a pool divided by contribution; the investor owns the
/// model) or `shares` (shares by contribution earning every prediction's fee). On chain
/// `IFederatedMarket.Mode`: RewardPool = 0, Shareholding = 1.
export type FlMode = "reward" | "shares";
export const FL_MODES: readonly FlMode[] = ["reward", "shares"];
/// `IFederatedMarket.TaskState` without `None`.
export const FL_STATES = ["Open", "Training", "Finished", "Cancelled", "Abandoned"] as const;
export type FlState = (typeof FL_STATES)[number];

export interface FlMember {
  account: Hex;
  blocks: number;
  joined: boolean;
}
export interface FlShare {
  account: Hex;
  /// Out of `TOTAL_SHARES` (10¹⁸).
  shares: bigint;
  /// Withdrawable dividends when the node reports them.
  withdrawable: bigint | null;
}
export interface FlClaim {
  account: Hex;
  amount: bigint;
  tx: Hex | null;
}
export interface FlTask {
  id: number;
  investor: Hex;
  coordinator: Hex;
  mode: FlMode;
  state: FlState;
  /// The pool's and the fees' token; the zero address is ETH.
  token: Hex;
  pool: bigint;
  predictionFee: bigint;
  blockToken: Hex;
  blockPrice: bigint;
  totalBlocks: number;
  blocksSold: number;
  minParticipants: number;
  startDeadline: number;
  finishDeadline: number;
  spec: string;
  /// What the spec says, when the node read it (name, data set, rounds …).
  specInfo: Record<string, unknown> | null;
  memberCount: number;
  members: FlMember[];
  shares: FlShare[];
  claims: FlClaim[];
  predictions: { count: number; revenue: bigint };
  /// The round being trained (or the last one), and how many the spec asks for.
  round: number | null;
  rounds: number | null;
  recordCid: string | null;
  rewardRoot: Hex | null;
}

export interface FlParticipant {
  account: Hex;
  loss: number;
  samples: number;
  /// This round's contribution (Shapley value as the node reports it; may be negative).
  value: number;
}
export interface FlRound {
  round: number;
  accuracy: number;
  loss: number;
  participants: FlParticipant[];
  aggregatedAt: number | null;
}
export interface FlLog {
  seq: number;
  at: number | null;
  level: string;
  message: string;
}
export interface FlResult {
  kind: "rewards" | "shares";
  recordCid: string;
  amount: bigint;
  proof: Hex[];
}
export interface FlPrediction {
  class: number;
  label: string;
  confidence: number;
  probabilities: number[];
}
export interface FlAccount {
  address: Hex;
  memberships: { taskId: number; blocks: number; state: FlState | null; mode: FlMode | null }[];
  shares: { taskId: number; shares: bigint; token: Hex | null; withdrawable: bigint | null; withdrawn: bigint | null }[];
  claims: { taskId: number; amount: bigint; token: Hex | null; tx: Hex | null }[];
  predictions: { taskId: number; requestId: string; fee: bigint; token: Hex | null; tx: Hex | null }[];
  /// Prediction fees and block sales received as the investor of a task.
  revenue: { taskId: number; amount: bigint; token: Hex | null; source: string }[];
}
export interface FaucetGift {
  eth: bigint;
  token: bigint;
  txs: Hex[];
}

// ---------------------------------------------------------------- reading JSON

type Obj = Record<string, unknown>;

/// `record_cid` → `recordCid`.
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/// The value with every object key in camelCase (arrays and nested objects included).
export function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v as Obj).map(([k, x]) => [camelKey(k), camelKeys(x)]));
  return v;
}

class Shape extends Error {
  constructor(what: string, field: string, value: unknown) {
    super(`${what}: bad ${field} ${JSON.stringify(value)?.slice(0, 80)}`);
    this.name = "ShapeError";
  }
}

function obj(v: unknown, what: string): Obj {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Shape(what, "object", v);
  return v as Obj;
}
function list(v: unknown, what: string, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Shape(what, field, v);
  return v;
}
function address(v: unknown, what: string, field: string): Hex {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw new Shape(what, field, v);
  return v.toLowerCase() as Hex;
}
function optAddress(v: unknown, what: string, field: string): Hex | null {
  return v === undefined || v === null ? null : address(v, what, field);
}
function hash(v: unknown, what: string, field: string): Hex {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(v)) throw new Shape(what, field, v);
  return v.toLowerCase() as Hex;
}
function optHash(v: unknown, what: string, field: string): Hex | null {
  return v === undefined || v === null ? null : hash(v, what, field);
}
/// An amount: a decimal string (as the API sends them) or a safe integer.
function amount(v: unknown, what: string, field: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== "string") throw new Shape(what, field, v);
  try {
    return parseUnitsString(v);
  } catch {
    throw new Shape(what, field, v);
  }
}
function optAmount(v: unknown, what: string, field: string): bigint | null {
  return v === undefined || v === null ? null : amount(v, what, field);
}
function int(v: unknown, what: string, field: string): number {
  const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new Shape(what, field, v);
  return n;
}
function optInt(v: unknown, what: string, field: string): number | null {
  return v === undefined || v === null ? null : int(v, what, field);
}
function num(v: unknown, what: string, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Shape(what, field, v);
  return v;
}
function str(v: unknown, what: string, field: string): string {
  if (typeof v !== "string") throw new Shape(what, field, v);
  return v;
}
/// Unix seconds, from seconds or an RFC 3339 string.
function time(v: unknown, what: string, field: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "number" && Number.isFinite(v)) return Math.floor(v);
  if (typeof v === "string") {
    if (/^[0-9]+$/.test(v)) return Number(v);
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  throw new Shape(what, field, v);
}

/// `RewardPool`, `reward_pool`, `reward`, 0 → `reward`; `Shareholding`, `shares`, 1 → `shares`.
export function parseMode(v: unknown): FlMode {
  const s = String(v).toLowerCase().replace(/[_\s-]/g, "");
  if (["0", "reward", "rewards", "rewardpool"].includes(s)) return "reward";
  if (["1", "shares", "share", "shareholding"].includes(s)) return "shares";
  throw new Shape("task", "mode", v);
}

/// The state's name in any case, or its number on chain (1 = Open … 5 = Abandoned).
export function parseState(v: unknown): FlState {
  if (typeof v === "number" && v >= 1 && v <= FL_STATES.length) return FL_STATES[v - 1];
  const s = String(v).toLowerCase();
  const found = FL_STATES.find((x) => x.toLowerCase() === s);
  if (!found) throw new Shape("task", "state", v);
  return found;
}

function parseMember(v: unknown): FlMember {
  const o = obj(v, "member");
  return { account: address(o.account ?? o.address, "member", "account"), blocks: int(o.blocks ?? 0, "member", "blocks"), joined: o.joined !== false };
}

export function parseTask(raw: unknown): FlTask {
  const o = obj(camelKeys(raw), "task");
  const terms = o.terms && typeof o.terms === "object" ? (o.terms as Obj) : {};
  // Terms may sit in a `terms` object or at the top level.
  const f = (k: string) => (o[k] !== undefined ? o[k] : terms[k]);
  const w = "task";
  const members = list(o.members, w, "members").map(parseMember);
  const shares = list(o.shares ?? o.shareholders, w, "shares").map((v) => {
    const s = obj(v, "share");
    return { account: address(s.account ?? s.holder, "share", "account"), shares: amount(s.shares, "share", "shares"), withdrawable: optAmount(s.withdrawable, "share", "withdrawable") };
  });
  const claims = list(o.claims, w, "claims").map((v) => {
    const c = obj(v, "claim");
    return { account: address(c.account, "claim", "account"), amount: amount(c.amount, "claim", "amount"), tx: optHash(c.tx ?? c.txHash, "claim", "tx") };
  });
  const p = o.predictions && typeof o.predictions === "object" ? (o.predictions as Obj) : {};
  const spec = f("spec");
  const specInfo = o.specInfo ?? (spec && typeof spec === "object" ? spec : null);
  return {
    id: int(o.id ?? o.taskId, w, "id"),
    investor: address(f("investor"), w, "investor"),
    coordinator: address(f("coordinator"), w, "coordinator"),
    mode: parseMode(f("mode")),
    state: parseState(o.state),
    token: address(f("token"), w, "token"),
    pool: amount(f("pool") ?? "0", w, "pool"),
    predictionFee: amount(f("predictionFee") ?? "0", w, "predictionFee"),
    blockToken: address(f("blockToken"), w, "blockToken"),
    blockPrice: amount(f("blockPrice") ?? "0", w, "blockPrice"),
    totalBlocks: int(f("totalBlocks"), w, "totalBlocks"),
    blocksSold: int(f("blocksSold") ?? 0, w, "blocksSold"),
    minParticipants: int(f("minParticipants"), w, "minParticipants"),
    startDeadline: time(f("startDeadline"), w, "startDeadline") ?? 0,
    finishDeadline: time(f("finishDeadline"), w, "finishDeadline") ?? 0,
    spec: typeof spec === "string" ? spec : typeof f("specCid") === "string" ? (f("specCid") as string) : "",
    specInfo: specInfo && typeof specInfo === "object" ? (specInfo as Obj) : null,
    memberCount: int(o.memberCount ?? (typeof terms.members === "number" ? terms.members : members.length), w, "memberCount"),
    members,
    shares,
    claims,
    predictions: {
      count: int(p.count ?? o.predictionCount ?? 0, w, "predictions.count"),
      revenue: amount(p.revenue ?? o.predictionRevenue ?? "0", w, "predictions.revenue"),
    },
    round: optInt(o.round ?? o.currentRound, w, "round"),
    rounds: optInt(o.rounds ?? o.totalRounds ?? (specInfo as Obj | null)?.rounds, w, "rounds"),
    recordCid: typeof o.recordCid === "string" ? o.recordCid : null,
    rewardRoot: optHash(o.rewardRoot ?? o.root, w, "rewardRoot"),
  };
}

// `members` may be a count on the list endpoint and a list on the detail one.
function normaliseMembers(raw: unknown): unknown {
  const o = camelKeys(raw) as Obj;
  if (o && typeof o === "object" && typeof o.members === "number") return { ...o, memberCount: o.members, members: [] };
  return o;
}

export function parseTasks(raw: unknown): FlTask[] {
  return list(raw, "tasks", "list").map((t) => parseTask(normaliseMembers(t)));
}

export function parseRounds(raw: unknown): FlRound[] {
  return list(camelKeys(raw), "rounds", "list")
    .map((v) => {
      const o = obj(v, "round");
      return {
        round: int(o.round, "round", "round"),
        accuracy: num(o.accuracy, "round", "accuracy"),
        loss: num(o.loss, "round", "loss"),
        participants: list(o.participants, "round", "participants").map((x) => {
          const q = obj(x, "participant");
          return {
            account: address(q.account, "participant", "account"),
            loss: num(q.loss, "participant", "loss"),
            samples: int(q.samples, "participant", "samples"),
            value: num(q.value ?? 0, "participant", "value"),
          };
        }),
        aggregatedAt: time(o.aggregatedAt, "round", "aggregatedAt"),
      };
    })
    .sort((a, b) => a.round - b.round);
}

export function parseLogs(raw: unknown): FlLog[] {
  return list(camelKeys(raw), "logs", "list").map((v) => {
    const o = obj(v, "log");
    return { seq: int(o.seq, "log", "seq"), at: time(o.at, "log", "at"), level: typeof o.level === "string" ? o.level : "info", message: str(o.message, "log", "message") };
  });
}

/// The logs held plus new ones: each seq once, in order (a poll may repeat the last line).
export function mergeLogs(held: readonly FlLog[], incoming: readonly FlLog[], keep = 500): FlLog[] {
  const bySeq = new Map<number, FlLog>();
  for (const l of held) bySeq.set(l.seq, l);
  for (const l of incoming) bySeq.set(l.seq, l);
  const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return all.length > keep ? all.slice(all.length - keep) : all;
}

/// The `after` to ask for next: the highest seq held, or 0.
export function lastSeq(logs: readonly FlLog[]): number {
  return logs.reduce((m, l) => Math.max(m, l.seq), 0);
}

export function parseResult(raw: unknown): FlResult {
  const o = obj(camelKeys(raw), "result");
  const kind = parseMode(o.kind) === "reward" ? "rewards" : "shares";
  return {
    kind,
    recordCid: typeof o.recordCid === "string" ? o.recordCid : "",
    amount: amount(o.amount, "result", "amount"),
    proof: list(o.proof, "result", "proof").map((x) => hash(x, "result", "proof")),
  };
}

export function parsePrediction(raw: unknown): FlPrediction {
  const o = obj(camelKeys(raw), "prediction");
  const cls = int(o.class, "prediction", "class");
  if (cls > 9) throw new Shape("prediction", "class", o.class);
  const probabilities = list(o.probabilities, "prediction", "probabilities").map((x) => num(x, "prediction", "probabilities"));
  return {
    class: cls,
    label: typeof o.label === "string" ? o.label : "",
    confidence: o.confidence === undefined ? (probabilities[cls] ?? 0) : num(o.confidence, "prediction", "confidence"),
    probabilities,
  };
}

export function parseAccount(raw: unknown): FlAccount {
  const o = obj(camelKeys(raw), "account");
  const w = "account";
  const task = (x: Obj) => int(x.taskId ?? x.task, w, "taskId");
  const tok = (x: Obj) => optAddress(x.token, w, "token");
  return {
    address: address(o.address ?? o.account, w, "address"),
    memberships: list(o.memberships, w, "memberships").map((v) => {
      const x = obj(v, "membership");
      return { taskId: task(x), blocks: int(x.blocks ?? 0, w, "blocks"), state: x.state == null ? null : parseState(x.state), mode: x.mode == null ? null : parseMode(x.mode) };
    }),
    shares: list(o.shares, w, "shares").map((v) => {
      const x = obj(v, "share");
      return { taskId: task(x), shares: amount(x.shares, w, "shares"), token: tok(x), withdrawable: optAmount(x.withdrawable, w, "withdrawable"), withdrawn: optAmount(x.withdrawn, w, "withdrawn") };
    }),
    claims: list(o.claims, w, "claims").map((v) => {
      const x = obj(v, "claim");
      return { taskId: task(x), amount: amount(x.amount, w, "amount"), token: tok(x), tx: optHash(x.tx ?? x.txHash, w, "tx") };
    }),
    predictions: list(o.predictions ?? o.predictionsPaid, w, "predictions").map((v) => {
      const x = obj(v, "prediction");
      return { taskId: task(x), requestId: String(x.requestId ?? ""), fee: amount(x.fee, w, "fee"), token: tok(x), tx: optHash(x.tx ?? x.txHash, w, "tx") };
    }),
    revenue: list(o.revenue ?? o.investorRevenue, w, "revenue").map((v) => {
      const x = obj(v, "revenue");
      return { taskId: task(x), amount: amount(x.amount, w, "amount"), token: tok(x), source: typeof x.source === "string" ? x.source : typeof x.kind === "string" ? x.kind : "" };
    }),
  };
}

export function parseFaucet(raw: unknown): FaucetGift {
  const o = obj(camelKeys(raw), "faucet");
  return { eth: amount(o.eth, "faucet", "eth"), token: amount(o.token, "faucet", "token"), txs: list(o.txs, "faucet", "txs").map((x) => hash(x, "faucet", "txs")) };
}

/// `/api/fl/specs`' answer: the CID, and the coordinator when the node names it there.
export function parseSpecAnswer(raw: unknown): { cid: string; coordinator: Hex | null } {
  const o = obj(camelKeys(raw), "spec");
  const cid = str(o.cid, "spec", "cid");
  if (!cid) throw new Shape("spec", "cid", cid);
  return { cid, coordinator: optAddress(o.coordinator, "spec", "coordinator") };
}

// ---------------------------------------------------------------- the network

/// The FederatedMarket's address from `/api/network` (`federatedMarket`, or `federated_market`).
export function federatedMarketOf(net: NetworkInfo | null): Hex | null {
  if (!net) return null;
  const n = net as unknown as Obj;
  const v = n.federatedMarket ?? n.federated_market;
  return typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v) ? (v.toLowerCase() as Hex) : null;
}

/// The node's coordinator (the account that starts tasks and posts results), if `/api/network`
/// names one (`flCoordinator`, `fl_coordinator` or `federatedCoordinator`).
export function coordinatorOf(net: NetworkInfo | null): Hex | null {
  if (!net) return null;
  const n = net as unknown as Obj;
  const v = n.flCoordinator ?? n.fl_coordinator ?? n.federatedCoordinator;
  return typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v) ? (v.toLowerCase() as Hex) : null;
}

// ---------------------------------------------------------------- the client

async function call<T>(path: string, parse: (raw: unknown) => T, init?: RequestInit): Promise<T> {
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

const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export interface TaskFilter {
  state?: FlState | "";
  mode?: FlMode | "";
  account?: string;
}

export function tasksQuery(f: TaskFilter): string {
  const q = new URLSearchParams();
  if (f.state) q.set("state", f.state);
  if (f.mode) q.set("mode", f.mode);
  if (f.account) q.set("account", f.account.toLowerCase());
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const flApi = {
  tasks: (f: TaskFilter = {}) => call(`/api/fl/tasks${tasksQuery(f)}`, parseTasks),
  task: (id: number) => call(`/api/fl/tasks/${id}`, parseTask),
  account: (addr: string) => call(`/api/fl/accounts/${addr.toLowerCase()}`, parseAccount),
  rounds: (id: number) => call(`/api/fl/tasks/${id}/rounds`, parseRounds),
  logs: (id: number, after: number) => call(`/api/fl/tasks/${id}/logs?after=${after}`, parseLogs),
  result: (id: number, account: string) => call(`/api/fl/tasks/${id}/result?account=${account.toLowerCase()}`, parseResult),
  predict: (id: number, requestId: bigint, pixelsBase64: string) =>
    call(`/api/fl/tasks/${id}/predict`, parsePrediction, post({ request_id: requestId.toString(), pixels: pixelsBase64 })),
  faucet: (addr: string) => call("/api/faucet", parseFaucet, post({ address: addr })),
  spec: (spec: unknown) => call("/api/fl/specs", parseSpecAnswer, post(spec)),
  network: api.network,
};
