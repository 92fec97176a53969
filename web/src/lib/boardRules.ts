// The task board's rules as the page applies them before asking the wallet
// (docs/task-board-contract.md): a reward must split evenly over the slots (and the nearest values
// that do), which actions a viewer may take on a task at a given chain time, whether publishing
// needs an approval first, and amounts in a token's units (community points have no decimals).
// All pure: the pages call these with the chain's clock, the tests with any moment.
import type { BoardTask, Claim, ClaimState } from "./board";
import { formatAmount, shortAddress } from "./format";

export const ETH = "0x0000000000000000000000000000000000000000";
export const isEth = (token: string) => token.toLowerCase() === ETH;
/// The contract's ceiling for a reward or a points amount (uint96).
export const MAX_U96 = 2n ** 96n - 1n;

// ---------------------------------------------------------------- reward and slots

export type RewardCheck =
  | { ok: true; perSlot: bigint }
  /// `below` / `above`: the nearest rewards that are multiples of `slots` (below is null when it
  /// would be zero, above when it would pass the contract's ceiling).
  | { ok: false; problem: "divisible"; below: bigint | null; above: bigint | null }
  | { ok: false; problem: "reward" | "slots" };

/// Whether `reward` (smallest unit) splits into `slots` equal payments, as `publish` demands
/// (`RewardNotDivisible` otherwise), and if not the nearest rewards that do.
export function checkReward(reward: bigint, slots: number, maxSlots = 1000): RewardCheck {
  if (!Number.isInteger(slots) || slots < 1 || slots > maxSlots) return { ok: false, problem: "slots" };
  if (reward < 1n || reward > MAX_U96) return { ok: false, problem: "reward" };
  const n = BigInt(slots);
  const rest = reward % n;
  if (rest === 0n) return { ok: true, perSlot: reward / n };
  const below = reward - rest;
  const above = below + n;
  return { ok: false, problem: "divisible", below: below > 0n ? below : null, above: above <= MAX_U96 ? above : null };
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/// The nearest rewards a person would type instead of `reward` (smallest unit, `decimals` places):
/// multiples of `slots` with as few decimals as will do, starting at the `typed` decimals the
/// person used and adding one at a time until the step between them is at most a tenth of the
/// reward (0.1 over 3 → 0.099 / 0.102; 100 over 3 → 99 / 102), down to the smallest unit (exact
/// neighbours) at worst. `below` is null when it would be zero, `above` past the contract's ceiling.
export function roundNearest(reward: bigint, slots: number, decimals: number, typed = 0): { below: bigint | null; above: bigint | null } {
  const n = BigInt(slots);
  for (let p = Math.max(0, Math.min(typed, decimals)); p <= decimals; p++) {
    const digit = 10n ** BigInt(decimals - p);
    const unit = (digit / gcd(digit, n)) * n;
    if (p < decimals && unit * 10n > reward) continue;
    const below = (reward / unit) * unit;
    const above = below === reward ? reward : below + unit;
    return { below: below > 0n ? below : null, above: above <= MAX_U96 ? above : null };
  }
  return { below: null, above: null };
}

/// How many decimals a typed amount uses (`0.10` → 2, `5` → 0).
export function typedDecimals(text: string): number {
  const m = /\.(\d*)$/.exec(text.trim());
  return m ? m[1].length : 0;
}

// ---------------------------------------------------------------- what a viewer may do

export type BoardAction =
  | { kind: "accept" }
  | { kind: "submit" }
  | { kind: "revise"; left: number }
  | { kind: "dispute" }
  | { kind: "approve"; worker: string }
  | { kind: "reject"; worker: string }
  | { kind: "remove"; worker: string }
  /// `blocked`: why cancelling is refused (a submission exists), shown on a disabled button.
  | { kind: "cancel"; blocked: "submissions" | null }
  | { kind: "extend" }
  | { kind: "approveLapsed"; worker: string }
  | { kind: "closeRejected"; worker: string }
  | { kind: "refund"; slots: number }
  | { kind: "resolve"; worker: string };

export type ActionKind = BoardAction["kind"];

/// States a claim can only reach through a submission.
const SUBMITTED_STATES: readonly ClaimState[] = ["submitted", "rejected", "disputed", "approved", "resolved", "closed"];

/// Whether any work was ever submitted on the task (cancelling is then refused for good).
export function hasSubmission(task: BoardTask, claims: readonly Claim[]): boolean {
  if (task.submitted !== undefined) return task.submitted;
  return claims.some((c) => SUBMITTED_STATES.includes(c.state)) || SUBMITTED_STATES.some((s) => task.counts[s] > 0);
}

/// When a working claim's worker may be removed as silent.
export const removableAt = (task: BoardTask, claim: Claim) => claim.acceptedAt + task.workTimeout;
/// When a submitted claim's review window ends (the API sends it; the claim's `since` gives it too).
export const reviewEndsAt = (task: BoardTask, claim: Claim) => claim.reviewEndsAt ?? claim.since + task.reviewWindow;
/// When a rejected claim's answer window ends.
export const answerEndsAt = (claim: Claim, answerWindow: number) => claim.answerEndsAt ?? claim.since + answerWindow;

/// The slots a `refund` would hand back now: the free ones and those whose worker never submitted.
export function refundableSlots(task: BoardTask): number {
  return task.freeSlots + task.counts.working;
}

/// Every action `viewer` may take on `task` at chain time `now`, in the order the page shows them:
/// the viewer's own work (accept, submit, revise, dispute), the publisher's decisions per claim and
/// on the task, what anyone may trigger once it is due, and the arbiter's. Each follows the
/// contract's checks (docs/task-board-contract.md), so a button shown is one the contract takes.
/// `refundDone`: the timeline holds a `refunded` entry. After the deadline nothing can become
/// refundable again (no accepting, no first submission), so one refund is the last; the claims of
/// refunded workers keep the state `working`, which is why the counts alone cannot tell.
export function viewerActions(
  task: BoardTask,
  claims: readonly Claim[],
  viewer: string | null,
  now: number,
  answerWindow: number,
  refundDone = false,
): BoardAction[] {
  if (!viewer || task.state !== "open") return [];
  const me = viewer.toLowerCase();
  const isPublisher = me === task.publisher.toLowerCase();
  const isArbiter = me === task.arbiter.toLowerCase();
  const beforeDeadline = now < task.deadline;
  const out: BoardAction[] = [];

  const mine = claims.find((c) => c.worker.toLowerCase() === me);
  if (!mine) {
    if (!isPublisher && !isArbiter && beforeDeadline && task.freeSlots > 0) out.push({ kind: "accept" });
  } else if (mine.state === "working") {
    if (beforeDeadline && !refundDone) out.push({ kind: "submit" });
  } else if (mine.state === "rejected" && now < answerEndsAt(mine, answerWindow)) {
    if (mine.revisions < task.maxRevisions) out.push({ kind: "revise", left: task.maxRevisions - mine.revisions });
    out.push({ kind: "dispute" });
  }

  for (const c of claims) {
    if (c.state === "submitted") {
      const lapsed = now >= reviewEndsAt(task, c);
      if (isPublisher) {
        out.push({ kind: "approve", worker: c.worker });
        if (!lapsed) out.push({ kind: "reject", worker: c.worker });
      }
      // Anyone (the worker included) may settle a lapsed review; the publisher approves directly.
      if (lapsed && !isPublisher) out.push({ kind: "approveLapsed", worker: c.worker });
    } else if (c.state === "working") {
      if (isPublisher && beforeDeadline && now >= removableAt(task, c)) out.push({ kind: "remove", worker: c.worker });
    } else if (c.state === "rejected") {
      if (now >= answerEndsAt(c, answerWindow)) out.push({ kind: "closeRejected", worker: c.worker });
    } else if (c.state === "disputed") {
      if (isArbiter) out.push({ kind: "resolve", worker: c.worker });
    }
  }

  if (isPublisher) {
    out.push({ kind: "cancel", blocked: hasSubmission(task, claims) ? "submissions" : null });
    if (beforeDeadline) out.push({ kind: "extend" });
  }
  const refundable = refundableSlots(task);
  if (!beforeDeadline && !refundDone && refundable > 0) out.push({ kind: "refund", slots: refundable });
  return out;
}

/// The actions of `kind` in `actions` about `worker` (or about the task when `worker` is omitted).
export function hasAction(actions: readonly BoardAction[], kind: ActionKind, worker?: string): boolean {
  return actions.some((a) => a.kind === kind && (worker === undefined || ("worker" in a && a.worker.toLowerCase() === worker.toLowerCase())));
}

// ---------------------------------------------------------------- publishing

export type PublishStep = "approve" | "publish";

/// The transactions publishing takes: ETH goes as the value; a token is pulled by the board, so it
/// is approved first when the board's allowance is short of the reward.
export function publishSteps(token: string, reward: bigint, allowance: bigint | null): PublishStep[] {
  if (isEth(token)) return ["publish"];
  return allowance !== null && allowance >= reward ? ["publish"] : ["approve", "publish"];
}

/// A dispute's split: the worker's part of one slot for `workerBps` (0–10,000), rounded down as the
/// contract does, and the publisher's rest.
export function splitOf(rewardPerSlot: bigint, workerBps: number): { worker: bigint; publisher: bigint } {
  const bps = BigInt(Math.max(0, Math.min(10_000, Math.round(workerBps))));
  const worker = (rewardPerSlot * bps) / 10_000n;
  return { worker, publisher: rewardPerSlot - worker };
}

/// A short free-text reason (a points mint's) as the contract's `bytes32`: its UTF-8 bytes, zero
/// padded; `null` when it does not fit.
export function reasonBytes32(text: string): `0x${string}` | null {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 32) return null;
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").padEnd(64, "0")}`;
}

// ---------------------------------------------------------------- amounts

export interface TokenInfo {
  symbol: string;
  decimals: number;
}

/// `value` of `token` for people: with every decimal the token has and its symbol when the page
/// knows it, else the integer and the token's short address.
export function boardAmount(value: bigint | string, token: string, tokens: Record<string, TokenInfo | undefined>): string {
  const v = typeof value === "string" ? BigInt(value) : value;
  const info = tokens[token.toLowerCase()];
  return info ? formatAmount(v, info.decimals, info.symbol, info.decimals) : `${v} (${shortAddress(token)})`;
}

/// Points (no decimals) with the community's symbol.
export function pointsAmount(value: bigint | string, symbol: string | null): string {
  const text = formatAmount(typeof value === "string" ? BigInt(value) : value, 0, symbol ?? "", 0);
  return symbol ? text : text.trim();
}

/// A duration in seconds as the largest whole units (`3d 4h`, `45m`, `20s`), for windows and
/// countdowns; `{d}`/`{h}`/`{m}`/`{s}` names come from the caller.
export function durationParts(seconds: number): { d: number; h: number; m: number; s: number } {
  const total = Math.max(0, Math.floor(seconds));
  return { d: Math.floor(total / 86400), h: Math.floor((total % 86400) / 3600), m: Math.floor((total % 3600) / 60), s: total % 60 };
}

export function formatDuration(seconds: number, units: { d: string; h: string; m: string; s: string }): string {
  const p = durationParts(seconds);
  const parts: string[] = [];
  if (p.d) parts.push(`${p.d}${units.d}`);
  if (p.h) parts.push(`${p.h}${units.h}`);
  if (p.m && !p.d) parts.push(`${p.m}${units.m}`);
  if (!p.d && !p.h && (p.s || !p.m)) parts.push(`${p.s}${units.s}`);
  return parts.join(" ");
}

// ---------------------------------------------------------------- the mall

export const SORTS = ["newest", "deadline", "free", "reward"] as const;
export type Sort = (typeof SORTS)[number];

/// The tasks in the order chosen (a copy; the API's order is newest first).
export function sortTasks(tasks: readonly BoardTask[], sort: Sort): BoardTask[] {
  const out = [...tasks];
  if (sort === "deadline") out.sort((a, b) => a.deadline - b.deadline || b.id - a.id);
  else if (sort === "free") out.sort((a, b) => b.freeSlots - a.freeSlots || b.id - a.id);
  else if (sort === "reward") out.sort((a, b) => (BigInt(b.rewardPerSlot) > BigInt(a.rewardPerSlot) ? 1 : BigInt(b.rewardPerSlot) < BigInt(a.rewardPerSlot) ? -1 : b.id - a.id));
  else out.sort((a, b) => b.id - a.id);
  return out;
}
