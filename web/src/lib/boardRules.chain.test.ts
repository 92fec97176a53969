/// <reference types="node" />
// lib/boardRules.ts `viewerActions` held against the real TaskBoard: an anvil chain with
// Communities and TaskBoard deployed from the committed artifacts, a task taken through its states
// (working, silent, submitted, rejected, revised, disputed, lapsed, answer window over, past the
// deadline, refunded, cancelled), and at each of them, for the publisher, three workers and the
// arbiter, every action: each one the rules offer must pass the contract's `eth_call` at that
// moment, each one they do not offer must be refused. Needs anvil from the repository's
// node_modules (as the browser tests do); skipped where it is absent.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicClient, createTestClient, createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { taskBoardAbi } from "../generated/abi";
import type { BoardTask, Claim, ClaimState } from "./board";
import * as calls from "./boardCalls";
import { hasAction, viewerActions, type BoardAction } from "./boardRules";

const KEYS: Hex[] = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const ANVIL = path.join(REPO, "node_modules/.bin/anvil");
const art = (n: string) => JSON.parse(readFileSync(path.join(REPO, `crates/chain/artifacts/${n}.json`), "utf8"));

/// A port nobody listens on now.
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

let anvil: ChildProcess | undefined;
const acct = KEYS.map((k) => privateKeyToAccount(k));
// Made once anvil has its port.
function clients(url: string) {
  const chain = { ...foundry, rpcUrls: { default: { http: [url] } } };
  return {
    pub: createPublicClient({ chain, transport: http(url) }),
    testc: createTestClient({ chain, mode: "anvil", transport: http(url) }),
    wal: acct.map((a) => createWalletClient({ account: a, chain, transport: http(url) })),
  };
}
let pub: ReturnType<typeof clients>["pub"];
let testc: ReturnType<typeof clients>["testc"];
let wal: ReturnType<typeof clients>["wal"];
const [P, W1, W2, ARB, W3] = acct.map((a) => a.address.toLowerCase() as Hex);
let board: Hex;
const ANSWER = 100;
const STATES: ClaimState[] = ["working", "working", "submitted", "rejected", "disputed", "approved", "resolved", "removed", "closed"];

async function deploy(name: string, args: unknown[] = []): Promise<Hex> {
  const a = art(name);
  const hash = await wal[0].deployContract({ abi: a.abi, bytecode: (a.bytecode.object ?? a.bytecode) as Hex, args });
  return (await pub.waitForTransactionReceipt({ hash })).contractAddress!.toLowerCase() as Hex;
}
async function send(who: number, call: { to: Hex; data: Hex; value?: bigint }) {
  const hash = await wal[who].sendTransaction({ to: call.to, data: call.data, value: call.value ?? 0n });
  const r = await pub.waitForTransactionReceipt({ hash });
  if (r.status !== "success") throw new Error("reverted");
  return r;
}
async function ok(who: number, call: { to: Hex; data: Hex; value?: bigint }) {
  try {
    await pub.call({ account: acct[who], to: call.to, data: call.data, value: call.value ?? 0n });
    return true;
  } catch {
    return false;
  }
}
async function view(id: number, workers: Hex[]): Promise<{ task: BoardTask; claims: Claim[]; now: number }> {
  const t = await pub.readContract({ address: board, abi: taskBoardAbi, functionName: "getTask", args: [BigInt(id)] });
  const now = Number((await pub.getBlock()).timestamp);
  const claims: Claim[] = [];
  for (const w of workers) {
    const c = await pub.readContract({ address: board, abi: taskBoardAbi, functionName: "getClaim", args: [BigInt(id), w] });
    if (c.state === 0) continue;
    claims.push({
      worker: w,
      state: STATES[c.state],
      revisions: c.revisions,
      acceptedAt: c.acceptedAt,
      since: c.since,
      // The API's fields the rules fall back from (the windows come from `since`).
      deliverable: null,
      reviewEndsAt: null,
      answerEndsAt: null,
      rejectionReason: null,
      disputeReason: null,
      paid: "0",
      pointsMinted: "0",
    });
  }
  const count = (s: ClaimState) => claims.filter((c) => c.state === s).length;
  const task: BoardTask = {
    id,
    publisher: t.publisher.toLowerCase() as Hex,
    communityId: null,
    token: t.token,
    rewardPerSlot: String(t.rewardPerSlot),
    reward: String(t.rewardPerSlot * BigInt(t.slots)),
    slots: t.slots,
    freeSlots: t.slots - t.working - t.active - t.settled,
    points: "0",
    deadline: t.deadline,
    reviewWindow: t.reviewWindow,
    workTimeout: t.workTimeout,
    maxRevisions: t.maxRevisions,
    arbiter: t.arbiter.toLowerCase() as Hex,
    spec: "bafy",
    state: t.state === 1 ? "open" : "cancelled",
    publishedAt: 0,
    publishedTx: "0x",
    refunded: "0",
    // `working` as the contract counts it (a refund zeroes it); the others from the claims.
    counts: {
      working: t.working,
      submitted: count("submitted"),
      rejected: count("rejected"),
      disputed: count("disputed"),
      approved: count("approved"),
      resolved: count("resolved"),
      removed: count("removed"),
      closed: count("closed"),
    },
  };
  return { task, claims, now };
}
/// The call `kind` makes on `task` (about `worker` for the per-claim actions).
function callOf(kind: BoardAction["kind"], task: BoardTask, worker: Hex): { to: Hex; data: Hex } {
  const id = task.id;
  switch (kind) {
    case "accept":
      return calls.acceptCall(board, id, BigInt(task.rewardPerSlot), task.deadline);
    case "submit":
    case "revise":
      return calls.submitCall(board, id, "cid");
    case "dispute":
      return calls.disputeCall(board, id, "r");
    case "approve":
      return calls.approveWorkCall(board, id, worker);
    case "reject":
      return calls.rejectCall(board, id, worker, "r");
    case "remove":
      return calls.removeWorkerCall(board, id, worker);
    case "cancel":
      return calls.cancelTaskCall(board, id);
    case "extend":
      return calls.extendDeadlineCall(board, id, task.deadline + 10);
    case "approveLapsed":
      return calls.approveLapsedCall(board, id, worker);
    case "closeRejected":
      return calls.closeRejectedCall(board, id, worker);
    case "refund":
      return calls.refundTaskCall(board, id);
    case "resolve":
      return calls.resolveCall(board, id, worker, 5000);
  }
}
const PER_CLAIM: readonly string[] = ["approve", "reject", "remove", "approveLapsed", "closeRejected", "resolve"];
const ALL: BoardAction["kind"][] = ["accept", "submit", "dispute", "approve", "reject", "remove", "cancel", "extend", "approveLapsed", "closeRejected", "refund", "resolve"];
/// For every viewer: each action the rules offer goes through on chain; each one not offered is refused.
async function agree(id: number, workers: Hex[], label: string) {
  const { task, claims, now } = await view(id, workers);
  // The rules judge at the latest block's time; `eth_call` runs within a second of it, and the
  // steps below move the clock by far more than that, so no window edge falls in between.
  const at = now;
  for (const [i, who] of [P, W1, W2, ARB, W3].entries()) {
    const actions = viewerActions(task, claims, who, at, ANSWER);
    for (const kind of ALL) {
      const targets: (Hex | null)[] = PER_CLAIM.includes(kind) ? claims.map((c) => c.worker) : [null];
      for (const w of targets) {
        const offered = w === null ? actions.some((a) => a.kind === kind || (kind === "submit" && a.kind === "revise")) : hasAction(actions, kind, w);
        const blocked = actions.some((a) => a.kind === "cancel" && a.blocked !== null);
        const call = callOf(kind, task, w ?? ("0x" as Hex));
        const chainSays = await ok(i, call);
        // The publisher approves a lapsed review directly (same effect as approveLapsed).
        const lapsed = claims.some((c) => c.worker === w && c.state === "submitted" && at >= c.since + task.reviewWindow);
        const viaApprove = kind === "approveLapsed" && i === 0 && lapsed;
        const expected = (!!offered && !(kind === "cancel" && blocked)) || viaApprove;
        expect(chainSays, `${label}: ${["P", "W1", "W2", "ARB", "W3"][i]} ${kind} ${w ?? ""} (rules ${expected})`).toBe(expected);
      }
    }
  }
}

beforeAll(async () => {
  if (!existsSync(ANVIL)) return;
  const port = await freePort();
  ({ pub, testc, wal } = clients(`http://127.0.0.1:${port}`));
  anvil = spawn(ANVIL, ["--port", String(port), "--silent"], { stdio: "ignore" });
  // Wait until anvil answers.
  for (let i = 0; ; i++) {
    try {
      await pub.getChainId();
      break;
    } catch (e) {
      if (i >= 200) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const communities = await deploy("Communities");
  board = await deploy("TaskBoard", [communities, ARB, BigInt(ANSWER)]);
}, 30_000);
afterAll(() => { anvil?.kill(); });

describe.skipIf(!existsSync(ANVIL))("viewerActions agrees with TaskBoard", () => {
  it("through a task's life", async () => {
    const now = Number((await pub.getBlock()).timestamp);
    const terms = { token: "0x0000000000000000000000000000000000000000" as Hex, reward: 300n, slots: 3, communityId: 0, points: 0n, deadline: now + 1000, reviewWindow: 50, workTimeout: 20, maxRevisions: 1, spec: "bafy" };
    const r = await send(0, calls.publishCall(board, terms));
    const id = calls.taskIdFromReceipt(board, r)!;
    const ws = [W1, W2, W3];
    await agree(id, ws, "fresh");
    await send(1, calls.acceptCall(board, id, 100n, terms.deadline));
    await agree(id, ws, "W1 working");
    await testc.increaseTime({ seconds: 30 }); await testc.mine({ blocks: 1 });
    await agree(id, ws, "W1 silent");
    await send(1, calls.submitCall(board, id, "cid1"));
    await agree(id, ws, "W1 submitted");
    await send(0, calls.rejectCall(board, id, W1, "no"));
    await agree(id, ws, "W1 rejected");
    await send(1, calls.submitCall(board, id, "cid2"));
    await send(2, calls.acceptCall(board, id, 100n, terms.deadline));
    await send(2, calls.submitCall(board, id, "x"));
    await send(0, calls.rejectCall(board, id, W2, "no"));
    await send(2, calls.disputeCall(board, id, "yes"));
    await agree(id, ws, "W1 revised, W2 disputed");
    await testc.increaseTime({ seconds: 60 }); await testc.mine({ blocks: 1 });
    await agree(id, ws, "W1 review lapsed");
    await send(3, calls.resolveCall(board, id, W2, 5000));
    await send(4, calls.acceptCall(board, id, 100n, terms.deadline));
    await send(4, calls.submitCall(board, id, "z"));
    await send(0, calls.rejectCall(board, id, W3, "no"));
    await testc.increaseTime({ seconds: 120 }); await testc.mine({ blocks: 1 });
    await agree(id, ws, "W3 answer window over");
    await testc.increaseTime({ seconds: 1000 }); await testc.mine({ blocks: 1 });
    await agree(id, ws, "after the deadline");
  }, 120_000);

  it("a task with free and silent slots after the deadline, refund once", async () => {
    const now = Number((await pub.getBlock()).timestamp);
    const terms = { token: "0x0000000000000000000000000000000000000000" as Hex, reward: 200n, slots: 2, communityId: 0, points: 0n, deadline: now + 100, reviewWindow: 50, workTimeout: 20, maxRevisions: 0, spec: "bafy" };
    const id = calls.taskIdFromReceipt(board, await send(0, calls.publishCall(board, terms)))!;
    await send(1, calls.acceptCall(board, id, 100n, terms.deadline));
    await testc.increaseTime({ seconds: 200 }); await testc.mine({ blocks: 1 });
    await agree(id, [W1], "deadline passed, one silent worker");
    await send(2, calls.refundTaskCall(board, id));
    // after the refund: the rules need refundDone from the timeline; without it they would offer refund again
    const { task, claims, now: n2 } = await view(id, [W1]);
    expect(viewerActions(task, claims, W2, n2 + 1, ANSWER, true).map((a) => a.kind)).toEqual([]);
    expect(await ok(2, calls.refundTaskCall(board, id))).toBe(false);
  }, 60_000);

  it("cancel before any submission", async () => {
    const now = Number((await pub.getBlock()).timestamp);
    const terms = { token: "0x0000000000000000000000000000000000000000" as Hex, reward: 100n, slots: 1, communityId: 0, points: 0n, deadline: now + 1000, reviewWindow: 50, workTimeout: 20, maxRevisions: 0, spec: "bafy" };
    const id = calls.taskIdFromReceipt(board, await send(0, calls.publishCall(board, terms)))!;
    await send(1, calls.acceptCall(board, id, 100n, terms.deadline));
    await agree(id, [W1], "cancel allowed");
    await send(0, calls.cancelTaskCall(board, id));
    await agree(id, [W1], "cancelled");
  }, 60_000);
});
