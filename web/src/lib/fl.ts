// The federated-learning market's HTTP shapes (issue 14), in one module: tasks, accounts, rounds,
// logs, results, predictions, the faucet and task specs, as crates/api's `fl_*` DTOs send them
// (camelCase; modes `reward_pool` / `shareholding`; states in lower case). The page reads them here
// by hand (lib/flJson.ts: either key case, amounts into bigints, every field checked) until
// openapi.json describes them all and the generated types can replace these readers.
import type { Hex } from "viem";
import { ApiError, errorFromBody, ipfsUrl, type NetworkInfo } from "./api";
import { address, amount, camelKeys, hash, int, list, num, obj, optAddress, optHash, optInt, optNum, Shape, str, time, type Obj } from "./flJson";

/// How the trainers are paid: `reward` (a pool divided by contribution; the investor owns the
/// model) or `shares` (shares by contribution earning every prediction's fee). On chain
/// `IFederatedMarket.Mode`: RewardPool = 0, Shareholding = 1; in the API `reward_pool`, `shareholding`.
export type FlMode = "reward" | "shares";
export const FL_MODES: readonly FlMode[] = ["reward", "shares"];
/// `IFederatedMarket.TaskState` without `None`.
export const FL_STATES = ["Open", "Training", "Finished", "Cancelled", "Abandoned"] as const;
export type FlState = (typeof FL_STATES)[number];

export interface FlMember {
  account: Hex;
  blocks: number;
  /// Still a member (false once it left).
  active: boolean;
  /// Block payments held for it until the start (refundable if the task is cancelled first).
  escrowed: bigint;
}
export interface FlShare {
  account: Hex;
  /// Out of `TOTAL_SHARES` (10¹⁸).
  shares: bigint;
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
  /// The spec's CID (what `/api/fl/specs` answered).
  spec: string;
  /// The spec itself when the page has read it (name, data set, rounds …).
  specInfo: Obj | null;
  memberCount: number;
  /// Only on a task's own page (the list sends the count).
  members: FlMember[];
  shares: FlShare[];
  claims: FlClaim[];
  predictions: { count: number; revenue: bigint };
  recordCid: string | null;
  rewardRoot: Hex | null;
}

export interface FlParticipant {
  account: Hex;
  samples: number;
  loss: number | null;
  /// This round's contribution (Shapley value; may be negative; 0 when refused).
  value: number;
  /// Why the update was refused, when it was.
  refused: string | null;
}
export interface FlRound {
  round: number;
  accuracy: number | null;
  loss: number | null;
  participants: FlParticipant[];
  aggregatedAt: number | null;
  /// The round's entry of the contribution record in the content store (null: an older node's round).
  recordCid: string | null;
}
/// The centralised reference the coordinator trains after the last round: the same model on the
/// pooled data of every block, its test accuracy after each epoch so far.
export interface FlReference {
  epochs: number;
  /// Epoch `k × epochsPerRound` ends with round `k` (the same passes over the data).
  epochsPerRound: number;
  samples: number;
  accuracy: (number | null)[];
  seconds: number;
  complete: boolean;
}
export interface FlLog {
  seq: number;
  at: number | null;
  level: string;
  message: string;
}
/// One account's part of a finished task, with its Merkle proof (rewards).
export interface FlResult {
  kind: "rewards" | "shares";
  recordCid: string;
  root: Hex | null;
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
  memberships: { taskId: number; blocks: number; active: boolean; escrowed: bigint }[];
  shares: { taskId: number; shares: bigint }[];
  claims: { taskId: number; amount: bigint; tx: Hex | null }[];
  /// Dividends withdrawn.
  dividends: { taskId: number; amount: bigint; tx: Hex | null }[];
  predictions: { taskId: number; requestId: string; fee: bigint; tx: Hex | null; at: number | null }[];
  /// As the investor: prediction fees (in the task's token) and block sales (in its block token).
  revenue: { taskId: number; predictions: number; predictionFees: bigint; blockRevenue: bigint }[];
}
export interface FaucetGift {
  eth: bigint;
  token: bigint;
  txs: Hex[];
}

/// `reward_pool`, `RewardPool`, `reward`, 0 → `reward`; `shareholding`, `shares`, 1 → `shares`.
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
  return {
    account: address(o.account ?? o.address, "member", "account"),
    blocks: int(o.blocks ?? 0, "member", "blocks"),
    active: (o.active ?? o.joined) !== false,
    escrowed: amount(o.escrowed ?? "0", "member", "escrowed"),
  };
}

/// A task: the list's `TaskDto`, or the detail's `{task, members, shares, claims, predictions}`.
export function parseTask(raw: unknown): FlTask {
  const outer = obj(camelKeys(raw), "task");
  const o = outer.task && typeof outer.task === "object" ? obj(outer.task, "task") : outer;
  const w = "task";
  const members = Array.isArray(outer.members) ? outer.members.map(parseMember) : [];
  const shares = list(outer.shares, w, "shares").map((v) => {
    const s = obj(v, "share");
    return { account: address(s.account, "share", "account"), shares: amount(s.shares, "share", "shares") };
  });
  const claims = list(outer.claims, w, "claims").map((v) => {
    const c = obj(v, "claim");
    return { account: address(c.account, "claim", "account"), amount: amount(c.amount, "claim", "amount"), tx: optHash(c.txHash ?? c.tx, "claim", "tx") };
  });
  const p = outer.predictions && typeof outer.predictions === "object" ? (outer.predictions as Obj) : {};
  return {
    id: int(o.id ?? o.taskId, w, "id"),
    investor: address(o.investor, w, "investor"),
    coordinator: address(o.coordinator, w, "coordinator"),
    mode: parseMode(o.mode),
    state: parseState(o.state),
    token: address(o.token, w, "token"),
    pool: amount(o.pool ?? "0", w, "pool"),
    predictionFee: amount(o.predictionFee ?? "0", w, "predictionFee"),
    blockToken: address(o.blockToken, w, "blockToken"),
    blockPrice: amount(o.blockPrice ?? "0", w, "blockPrice"),
    totalBlocks: int(o.totalBlocks, w, "totalBlocks"),
    blocksSold: int(o.blocksSold ?? 0, w, "blocksSold"),
    minParticipants: int(o.minParticipants, w, "minParticipants"),
    startDeadline: time(o.startDeadline, w, "startDeadline") ?? 0,
    finishDeadline: time(o.finishDeadline, w, "finishDeadline") ?? 0,
    spec: typeof o.spec === "string" ? o.spec : "",
    specInfo: null,
    memberCount: typeof o.members === "number" ? int(o.members, w, "members") : members.filter((m) => m.active).length,
    members,
    shares,
    claims,
    predictions: { count: int(p.count ?? 0, w, "predictions.count"), revenue: amount(p.revenue ?? "0", w, "predictions.revenue") },
    recordCid: typeof o.recordCid === "string" ? o.recordCid : null,
    rewardRoot: optHash(o.rewardsRoot ?? o.rewardRoot, w, "rewardsRoot"),
  };
}

export function parseTasks(raw: unknown): FlTask[] {
  return list(raw, "tasks", "list").map(parseTask);
}

/// How many rounds the spec plans, when the page has it.
export function plannedRounds(t: FlTask): number | null {
  const r = t.specInfo?.rounds;
  return typeof r === "number" && Number.isInteger(r) && r > 0 ? r : null;
}

/// The spec's name, or `null`.
export function specName(t: FlTask): string | null {
  const n = t.specInfo?.name;
  return typeof n === "string" && n.trim() ? n.trim() : null;
}

export function parseRounds(raw: unknown): FlRound[] {
  return list(camelKeys(raw), "rounds", "list")
    .map((v) => {
      const o = obj(v, "round");
      return {
        round: int(o.round, "round", "round"),
        accuracy: optNum(o.accuracy, "round", "accuracy"),
        loss: optNum(o.loss, "round", "loss"),
        participants: list(o.participants, "round", "participants").map((x) => {
          const q = obj(x, "participant");
          return {
            account: address(q.account, "participant", "account"),
            samples: int(q.samples ?? 0, "participant", "samples"),
            loss: optNum(q.loss, "participant", "loss"),
            value: optNum(q.contribution ?? q.value, "participant", "contribution") ?? 0,
            refused: typeof q.refused === "string" ? q.refused : null,
          };
        }),
        aggregatedAt: time(o.aggregatedAt, "round", "aggregatedAt"),
        recordCid: typeof o.recordCid === "string" && o.recordCid ? o.recordCid : null,
      };
    })
    .sort((a, b) => a.round - b.round);
}

export function parseReference(raw: unknown): FlReference {
  const o = obj(camelKeys(raw), "reference");
  const epochs = int(o.epochs, "reference", "epochs");
  const accuracy = list(o.accuracy, "reference", "accuracy").map((v) => optNum(v, "reference", "accuracy"));
  return {
    epochs,
    epochsPerRound: Math.max(1, int(o.epochsPerRound ?? 1, "reference", "epochsPerRound")),
    samples: int(o.samples ?? 0, "reference", "samples"),
    accuracy,
    seconds: optNum(o.seconds, "reference", "seconds") ?? 0,
    complete: typeof o.complete === "boolean" ? o.complete : accuracy.length >= epochs,
  };
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

/// `account`'s entry of a task's result (`{kind, recordCid, root, entries: [{account, amount,
/// proof}]}`); the proof passes through unchanged. Refused when the account has no entry.
export function parseResult(raw: unknown, account: string): FlResult {
  const o = obj(camelKeys(raw), "result");
  const kind = String(o.kind).toLowerCase().startsWith("reward") ? "rewards" : "shares";
  const entries = list(o.entries, "result", "entries").map((v) => obj(v, "result entry"));
  const mine = entries.find((e) => typeof e.account === "string" && e.account.toLowerCase() === account.toLowerCase());
  if (!mine) throw new Shape("result", "entries (no entry for this account)", account);
  return {
    kind,
    recordCid: typeof o.recordCid === "string" ? o.recordCid : "",
    root: optHash(o.root, "result", "root"),
    amount: amount(mine.amount, "result", "amount"),
    proof: list(mine.proof, "result", "proof").map((x) => hash(x, "result", "proof")),
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
  const rows = (k: string) => list(o[k], w, k).map((v) => obj(v, k));
  const task = (x: Obj) => int(x.taskId, w, "taskId");
  const tx = (x: Obj) => optHash(x.txHash ?? x.tx, w, "txHash");
  return {
    address: address(o.address, w, "address"),
    memberships: rows("memberships").map((x) => ({
      taskId: task(x),
      blocks: int(x.blocks ?? 0, w, "blocks"),
      active: (x.active ?? true) !== false,
      escrowed: amount(x.escrowed ?? "0", w, "escrowed"),
    })),
    shares: rows("shares").map((x) => ({ taskId: task(x), shares: amount(x.shares, w, "shares") })),
    claims: rows("claims").map((x) => ({ taskId: task(x), amount: amount(x.amount, w, "amount"), tx: tx(x) })),
    dividends: rows("dividends").map((x) => ({ taskId: task(x), amount: amount(x.amount, w, "amount"), tx: tx(x) })),
    predictions: rows("predictions").map((x) => ({
      taskId: task(x),
      requestId: String(int(x.requestId, w, "requestId")),
      fee: amount(x.fee, w, "fee"),
      tx: tx(x),
      at: time(x.requestedAt, w, "requestedAt"),
    })),
    revenue: rows("revenue").map((x) => ({
      taskId: task(x),
      predictions: int(x.predictions ?? 0, w, "predictions"),
      predictionFees: amount(x.predictionFees ?? "0", w, "predictionFees"),
      blockRevenue: amount(x.blockRevenue ?? "0", w, "blockRevenue"),
    })),
  };
}

/// Every task an account's records name, once, in order.
export function accountTaskIds(a: FlAccount): number[] {
  const ids = [a.memberships, a.shares, a.claims, a.dividends, a.predictions, a.revenue].flatMap((rows) => rows.map((r) => r.taskId));
  return [...new Set(ids)].sort((x, y) => x - y);
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

/// A spec read back from the content store: any JSON object (keys in camelCase).
export function parseSpecInfo(raw: unknown): Obj {
  const o = obj(camelKeys(raw), "spec");
  if (o.rounds !== undefined) optInt(o.rounds, "spec", "rounds");
  return o;
}

// ---------------------------------------------------------------- the network

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/// The FederatedMarket's address from `/api/network` (`federatedMarket`, or `federated_market`).
export function federatedMarketOf(net: NetworkInfo | null): Hex | null {
  const n = (net ?? {}) as Obj;
  const v = n.federatedMarket ?? n.federated_market;
  return typeof v === "string" && ADDRESS.test(v) ? (v.toLowerCase() as Hex) : null;
}

/// The node's coordinator (the account that starts tasks and posts results), if `/api/network`
/// names one (`flCoordinator` or `fl_coordinator`).
export function coordinatorOf(net: NetworkInfo | null): Hex | null {
  const n = (net ?? {}) as Obj;
  const v = n.flCoordinator ?? n.fl_coordinator;
  return typeof v === "string" && ADDRESS.test(v) ? (v.toLowerCase() as Hex) : null;
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

/// `?state=open&mode=reward_pool&account=0x…`, as the API spells them.
export function tasksQuery(f: TaskFilter): string {
  const q = new URLSearchParams();
  if (f.state) q.set("state", f.state.toLowerCase());
  if (f.mode) q.set("mode", f.mode === "reward" ? "reward_pool" : "shareholding");
  if (f.account) q.set("account", f.account.toLowerCase());
  const s = q.toString();
  return s ? `?${s}` : "";
}

/// Calls `call` until the node answers something other than "not seen yet" (404 or 409: a paid
/// request's event reaches the node's index a block or two after the receipt), at most `tries`
/// times, `delayMs` apart; the last error otherwise.
export async function askUntilSeen<T>(call: () => Promise<T>, tries = 20, delayMs = 1000): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (e) {
      if (i >= tries || !(e instanceof ApiError) || (e.status !== 404 && e.status !== 409)) throw e;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

export const flApi = {
  tasks: (f: TaskFilter = {}) => call(`/api/fl/tasks${tasksQuery(f)}`, parseTasks),
  task: (id: number) => call(`/api/fl/tasks/${id}`, parseTask),
  account: (addr: string) => call(`/api/fl/accounts/${addr.toLowerCase()}`, parseAccount),
  rounds: (id: number) => call(`/api/fl/tasks/${id}/rounds`, parseRounds),
  /// `null` while the node has no epoch of it (404).
  reference: (id: number) =>
    call(`/api/fl/tasks/${id}/reference`, parseReference).catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }),
  logs: (id: number, after: number) => call(`/api/fl/tasks/${id}/logs?after=${after}`, parseLogs),
  result: (id: number, account: string) => call(`/api/fl/tasks/${id}/result?account=${account.toLowerCase()}`, (raw) => parseResult(raw, account)),
  predict: (id: number, requestId: bigint, pixelsBase64: string) =>
    call(`/api/fl/tasks/${id}/predict`, parsePrediction, post({ request_id: requestId.toString(), pixels: pixelsBase64 })),
  faucet: (addr: string) => call("/api/faucet", parseFaucet, post({ address: addr })),
  spec: (spec: unknown) => call("/api/fl/specs", parseSpecAnswer, post(spec)),
  specInfo: (cid: string) => call(ipfsUrl(cid), parseSpecInfo),
};
