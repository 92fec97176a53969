// The TaskBoard's and Communities' calls as the page sends them (contracts/src/TaskBoard.sol,
// Communities.sol), the ids a receipt's events carry, and their refusals decoded into the error's
// name and figures (the node's simulation answers "unknown data 0x…" for contracts it does not
// know; lib/flErrors.ts does the same for the FederatedMarket).
import { decodeErrorResult, decodeEventLog, encodeFunctionData, type Hex, type TransactionReceipt } from "viem";
import { communitiesAbi, communityPointsAbi, taskBoardAbi } from "../generated/abi";
import { isEth } from "./boardRules";
import type { Call } from "./tx";

export interface PublishTerms {
  token: Hex;
  reward: bigint;
  slots: number;
  communityId: number;
  points: bigint;
  deadline: number;
  reviewWindow: number;
  workTimeout: number;
  maxRevisions: number;
  spec: string;
}

const board = (to: Hex, data: Hex, value = 0n): Call => ({ to, data, value });
const id = (n: number) => BigInt(n);

/// `publish(params)`, the reward as the value when it is in ETH.
export function publishCall(taskBoard: Hex, p: PublishTerms): Call {
  const data = encodeFunctionData({
    abi: taskBoardAbi,
    functionName: "publish",
    args: [
      {
        token: p.token,
        reward: p.reward,
        slots: p.slots,
        communityId: BigInt(p.communityId),
        points: p.points,
        deadline: p.deadline,
        reviewWindow: p.reviewWindow,
        workTimeout: p.workTimeout,
        maxRevisions: p.maxRevisions,
        spec: p.spec,
      },
    ],
  });
  return board(taskBoard, data, isEth(p.token) ? p.reward : 0n);
}

/// `accept` with the terms the worker saw (the contract refuses if they changed since).
export const acceptCall = (b: Hex, taskId: number, rewardPerSlot: bigint, deadline: number) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "accept", args: [id(taskId), rewardPerSlot, deadline] }));
export const submitCall = (b: Hex, taskId: number, deliverable: string) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "submit", args: [id(taskId), deliverable] }));
export const approveWorkCall = (b: Hex, taskId: number, worker: Hex) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "approve", args: [id(taskId), worker] }));
export const rejectCall = (b: Hex, taskId: number, worker: Hex, reason: string) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "reject", args: [id(taskId), worker, reason] }));
export const disputeCall = (b: Hex, taskId: number, reason: string) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "openDispute", args: [id(taskId), reason] }));
export function resolveCall(b: Hex, taskId: number, worker: Hex, workerBps: number): Call {
  if (!Number.isInteger(workerBps) || workerBps < 0 || workerBps > 10_000) throw new Error(`not a split: ${workerBps}`);
  return board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "resolveDispute", args: [id(taskId), worker, workerBps] }));
}
export const removeWorkerCall = (b: Hex, taskId: number, worker: Hex) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "removeWorker", args: [id(taskId), worker] }));
export const cancelTaskCall = (b: Hex, taskId: number) => board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "cancel", args: [id(taskId)] }));
export const refundTaskCall = (b: Hex, taskId: number) => board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "refund", args: [id(taskId)] }));
export const approveLapsedCall = (b: Hex, taskId: number, worker: Hex) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "approveLapsed", args: [id(taskId), worker] }));
export const closeRejectedCall = (b: Hex, taskId: number, worker: Hex) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "closeRejected", args: [id(taskId), worker] }));
export const extendDeadlineCall = (b: Hex, taskId: number, deadline: number) =>
  board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "extendDeadline", args: [id(taskId), deadline] }));

/// `withdraw(token)`: what the board owes the caller in `token` (a payout that could not be pushed).
export const withdrawCall = (b: Hex, token: Hex) => board(b, encodeFunctionData({ abi: taskBoardAbi, functionName: "withdraw", args: [token] }));

// ---------------------------------------------------------------- communities

export const createCommunityCall = (c: Hex, name: string, symbol: string, metadataUri: string, arbiter: Hex) =>
  board(c, encodeFunctionData({ abi: communitiesAbi, functionName: "createCommunity", args: [name, symbol, metadataUri, arbiter] }));
export const joinCall = (c: Hex, communityId: number) => board(c, encodeFunctionData({ abi: communitiesAbi, functionName: "join", args: [id(communityId)] }));
export const leaveCall = (c: Hex, communityId: number) => board(c, encodeFunctionData({ abi: communitiesAbi, functionName: "leave", args: [id(communityId)] }));
export const addAdminCall = (c: Hex, communityId: number, account: Hex) =>
  board(c, encodeFunctionData({ abi: communitiesAbi, functionName: "addAdmin", args: [id(communityId), account] }));
export const mintCall = (c: Hex, communityId: number, to: Hex, amount: bigint, reason: Hex) =>
  board(c, encodeFunctionData({ abi: communitiesAbi, functionName: "mint", args: [id(communityId), to, amount, reason] }));
export const setTransfersCall = (c: Hex, communityId: number, enabled: boolean) =>
  board(c, encodeFunctionData({ abi: communitiesAbi, functionName: "setPointsTransfers", args: [id(communityId), enabled] }));
export const setAllowanceCall = (c: Hex, communityId: number, minter: Hex, allowance: bigint) =>
  board(c, encodeFunctionData({ abi: communitiesAbi, functionName: "setMinterAllowance", args: [id(communityId), minter, allowance] }));

// ---------------------------------------------------------------- receipts

export function taskIdFromReceipt(taskBoard: Hex, receipt: TransactionReceipt): number | null {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== taskBoard.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: taskBoardAbi, data: log.data, topics: log.topics });
      if (ev.eventName === "TaskPublished") return Number((ev.args as { taskId: bigint }).taskId);
    } catch {
      // another event's layout
    }
  }
  return null;
}

export function communityIdFromReceipt(communities: Hex, receipt: TransactionReceipt): number | null {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== communities.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: communitiesAbi, data: log.data, topics: log.topics });
      if (ev.eventName === "CommunityCreated") return Number((ev.args as { communityId: bigint }).communityId);
    } catch {
      // another event's layout
    }
  }
  return null;
}

// ---------------------------------------------------------------- refusals

export interface BoardRevert {
  name: string;
  figures: string;
}

/// The TaskBoard or Communities error a failure carries ("unknown data 0x…" in the node's
/// sentence), with its figures; `null` when it is none of theirs.
export function decodeBoardRevert(e: unknown): BoardRevert | null {
  const message = e instanceof Error ? e.message : typeof e === "string" ? e : "";
  const m = /unknown data (0x[0-9a-fA-F]{8,})/.exec(message);
  if (!m) return null;
  for (const abi of [taskBoardAbi, communitiesAbi, communityPointsAbi] as const) {
    try {
      const d = decodeErrorResult({ abi, data: m[1] as Hex });
      const inputs = (abi as readonly { type: string; name?: string; inputs?: readonly { name: string }[] }[]).find((x) => x.type === "error" && x.name === d.errorName)?.inputs ?? [];
      const values = (d.args ?? []) as readonly unknown[];
      const figures = inputs.map((input, i) => `${input.name} ${typeof values[i] === "bigint" ? (values[i] as bigint).toString() : String(values[i])}`).join(", ");
      return { name: d.errorName, figures };
    } catch {
      // not this contract's
    }
  }
  return null;
}

/// Errors with a sentence of their own in the message files (`board.error.<Name>`).
export const EXPLAINED_ERRORS = [
  "TaskHasSubmissions",
  "RewardNotDivisible",
  "TermsChanged",
  "NoFreeSlot",
  "AlreadyClaimed",
  "WorkerIsParty",
  "DeadlinePassed",
  "ReviewWindowClosed",
  "AnswerWindowClosed",
  "NoRevisionsLeft",
  "NotCommunityAdmin",
  "MintAllowanceExceeded",
  "PointsNotTransferable",
  "AlreadyMember",
  "CannotLeave",
] as const;
export type ExplainedError = (typeof EXPLAINED_ERRORS)[number];

export function isExplained(name: string): name is ExplainedError {
  return (EXPLAINED_ERRORS as readonly string[]).includes(name);
}
