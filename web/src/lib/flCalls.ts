// The FederatedMarket's calls as the page sends them (contracts/src/FederatedMarket.sol,
// docs/fl-market-contract.md): createTask in either mode (the pool as the value for ETH, a token
// pool approved first), join, leave, buyBlocks (MarketToken approved first), claimReward with the
// proof the node gave, withdrawDividends and requestPrediction; the task spec posted to
// `/api/fl/specs` before createTask; the ids a receipt's events carry; the reward proof checked
// here against the task's root before a claim is sent (OpenZeppelin's standard Merkle tree).
import { concat, decodeEventLog, encodeAbiParameters, encodeFunctionData, keccak256, type Hex, type TransactionReceipt } from "viem";
import { ETH_TOKEN, federatedMarketAbi } from "./abi";
import type { FlMode } from "./fl";
import type { Call } from "./tx";

export const isEthToken = (token: string) => token.toLowerCase() === ETH_TOKEN;

/// `IFederatedMarket.Mode`.
export const MODE_NUMBER: Record<FlMode, number> = { reward: 0, shares: 1 };

/// 10¹⁸: the whole model in shares.
export const TOTAL_SHARES = 10n ** 18n;
/// The contract's limits on a task's money (uint96).
export const MAX_U96 = 2n ** 96n - 1n;

export interface CreateTerms {
  mode: FlMode;
  coordinator: Hex;
  token: Hex;
  pool: bigint;
  predictionFee: bigint;
  blockToken: Hex;
  blockPrice: bigint;
  totalBlocks: number;
  minParticipants: number;
  startDeadline: number;
  finishDeadline: number;
  spec: string;
}

/// Which of the terms the contract would refuse.
export type TermsProblem = "coordinator" | "pool" | "fee" | "blocks" | "participants" | "deadlines" | "spec";

/// The reasons the contract would refuse these terms, checked before anything is sent (the
/// simulation would say it too, but as an error name): `null` when they are acceptable.
export function termsProblem(t: CreateTerms, now: number): TermsProblem | null {
  if (/^0x0{40}$/i.test(t.coordinator)) return "coordinator";
  if (t.mode === "reward" && (t.pool <= 0n || t.pool > MAX_U96)) return "pool";
  if (t.mode === "shares" && t.pool !== 0n) return "pool";
  if (t.mode === "shares" && t.predictionFee <= 0n) return "fee";
  if (t.predictionFee > MAX_U96 || t.blockPrice > MAX_U96 || t.predictionFee < 0n || t.blockPrice < 0n) return "fee";
  if (!Number.isInteger(t.totalBlocks) || t.totalBlocks < 1 || t.totalBlocks > 2 ** 32 - 1) return "blocks";
  if (!Number.isInteger(t.minParticipants) || t.minParticipants < 1 || t.minParticipants > 1000) return "participants";
  if (t.startDeadline <= now || t.finishDeadline <= t.startDeadline || t.finishDeadline > now + 365 * 86400) return "deadlines";
  if (!t.spec || new TextEncoder().encode(t.spec).length > 512) return "spec";
  return null;
}

/// `createTask(params)`, with the pool as the value when it is in ETH.
export function createTaskCall(market: Hex, t: CreateTerms): Call {
  return {
    to: market,
    data: encodeFunctionData({
      abi: federatedMarketAbi,
      functionName: "createTask",
      args: [
        {
          mode: MODE_NUMBER[t.mode],
          coordinator: t.coordinator,
          token: t.token,
          pool: t.pool,
          predictionFee: t.predictionFee,
          blockToken: t.blockToken,
          blockPrice: t.blockPrice,
          totalBlocks: t.totalBlocks,
          minParticipants: t.minParticipants,
          startDeadline: t.startDeadline,
          finishDeadline: t.finishDeadline,
          spec: t.spec,
        },
      ],
    }),
    value: t.mode === "reward" && isEthToken(t.token) ? t.pool : 0n,
  };
}

const fn = (market: Hex, data: Hex, value = 0n): Call => ({ to: market, data, value });

export const joinCall = (market: Hex, taskId: number) =>
  fn(market, encodeFunctionData({ abi: federatedMarketAbi, functionName: "join", args: [BigInt(taskId)] }));

export const leaveCall = (market: Hex, taskId: number) =>
  fn(market, encodeFunctionData({ abi: federatedMarketAbi, functionName: "leave", args: [BigInt(taskId)] }));

/// `buyBlocks(taskId, count)`: `count × blockPrice` of the block token (ETH as the value).
export function buyBlocksCall(market: Hex, taskId: number, count: number, blockToken: Hex, blockPrice: bigint): Call {
  if (!Number.isInteger(count) || count < 1 || count > 2 ** 32 - 1) throw new Error(`not a block count: ${count}`);
  const data = encodeFunctionData({ abi: federatedMarketAbi, functionName: "buyBlocks", args: [BigInt(taskId), count] });
  return fn(market, data, isEthToken(blockToken) ? blockPrice * BigInt(count) : 0n);
}

/// `claimReward(taskId, account, amount, proof)`: the proof exactly as `/result` gave it.
export const claimRewardCall = (market: Hex, taskId: number, account: Hex, amount: bigint, proof: readonly Hex[]) =>
  fn(market, encodeFunctionData({ abi: federatedMarketAbi, functionName: "claimReward", args: [BigInt(taskId), account, amount, [...proof]] }));

/// `cancel(taskId)`: the investor while open, anyone once a deadline has passed; the pool goes back.
export const cancelCall = (market: Hex, taskId: number) =>
  fn(market, encodeFunctionData({ abi: federatedMarketAbi, functionName: "cancel", args: [BigInt(taskId)] }));

/// `refundBlocks(taskId, account)`: a cancelled task's held block payment back to the member.
export const refundBlocksCall = (market: Hex, taskId: number, account: Hex) =>
  fn(market, encodeFunctionData({ abi: federatedMarketAbi, functionName: "refundBlocks", args: [BigInt(taskId), account] }));

/// Who may cancel a task now (`IFederatedMarket.cancel`): its investor while it is open, anyone
/// once the start deadline passed unstarted or the finish deadline passed in training.
export function canCancel(t: { state: string; investor: string; startDeadline: number; finishDeadline: number }, who: string | null, now: number): boolean {
  if (t.state === "Open") return now >= t.startDeadline || (who !== null && who.toLowerCase() === t.investor.toLowerCase());
  return t.state === "Training" && now >= t.finishDeadline;
}

export const withdrawDividendsCall = (market: Hex, taskId: number, account: Hex) =>
  fn(market, encodeFunctionData({ abi: federatedMarketAbi, functionName: "withdrawDividends", args: [BigInt(taskId), account] }));

/// `requestPrediction(taskId, keccak256(pixels))` paying the task's fee (the value for ETH).
export function requestPredictionCall(market: Hex, taskId: number, inputHash: Hex, fee: bigint, token: Hex): Call {
  const data = encodeFunctionData({ abi: federatedMarketAbi, functionName: "requestPrediction", args: [BigInt(taskId), inputHash] });
  return fn(market, data, isEthToken(token) ? fee : 0n);
}

/// The first event named `name` the market emitted in `receipt`, decoded.
function eventIn(market: Hex, receipt: TransactionReceipt, name: "TaskCreated" | "PredictionRequested") {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== market.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: federatedMarketAbi, data: log.data, topics: log.topics });
      if (ev.eventName === name) return ev;
    } catch {
      // another contract's or another event's layout
    }
  }
  throw new Error(`no ${name} event in transaction ${receipt.transactionHash}`);
}

export function taskIdFromReceipt(market: Hex, receipt: TransactionReceipt): number {
  const ev = eventIn(market, receipt, "TaskCreated");
  return Number((ev.args as { taskId: bigint }).taskId);
}

export function requestIdFromReceipt(market: Hex, receipt: TransactionReceipt): bigint {
  const ev = eventIn(market, receipt, "PredictionRequested");
  return (ev.args as { requestId: bigint }).requestId;
}

// ---------------------------------------------------------------- reward proofs

/// `keccak256(bytes.concat(keccak256(abi.encode(account, amount))))`, the contract's `rewardLeaf`.
export function rewardLeaf(account: Hex, amount: bigint): Hex {
  return keccak256(keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [account, amount])));
}

/// Pairs hashed in ascending order (OpenZeppelin's `MerkleProof`, commutative).
export function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/// Whether `proof` shows `(account, amount)` under `root`.
export function verifyRewardProof(root: Hex, account: Hex, amount: bigint, proof: readonly Hex[]): boolean {
  let node = rewardLeaf(account, amount);
  for (const p of proof) node = hashPair(node, p);
  return node.toLowerCase() === root.toLowerCase();
}

// ---------------------------------------------------------------- the task spec

export type Partition = { kind: "iid" } | { kind: "dirichlet"; alpha: number };
export const DATASETS = ["fashion-mnist", "mnist", "digits"] as const;
export type Dataset = (typeof DATASETS)[number];
/// crates/federated's `ModelKind`: the MLP (the default, left out of the spec) or the small CNN.
export const MODELS = ["mlp", "cnn"] as const;
export type ModelKind = (typeof MODELS)[number];
export const AGGREGATORS = ["fed_avg", "median", "trimmed_mean"] as const;
export type AggregatorKind = (typeof AGGREGATORS)[number];

/// What the create form asks; the rest of the spec takes the coordinator's defaults.
export interface SpecForm {
  dataset: Dataset;
  model: ModelKind;
  partition: Partition;
  aggregator: AggregatorKind;
  blocks: number;
  blocksPerMember: number;
  rounds: number;
  localEpochs: number;
  minParticipants: number;
}

export const DEFAULT_SPEC: SpecForm = {
  dataset: "fashion-mnist",
  model: "mlp",
  partition: { kind: "iid" },
  aggregator: "fed_avg",
  blocks: 100,
  blocksPerMember: 5,
  rounds: 10,
  localEpochs: 1,
  minParticipants: 2,
};

/// The held-out sets per data set (crates/federated `TaskSpec::fashion_mnist` / `mnist` /
/// `digits_demo`): Fashion-MNIST keeps 1,000 training samples for the Shapley utility and has its
/// own test file; the 10,000 MNIST digits keep 1,000 and 1,000, the 1,797 8×8 digits 300 and 297.
const HELD_OUT: Record<Dataset, { validation: number; test: number; roundTimeoutSecs: number }> = {
  "fashion-mnist": { validation: 1000, test: 0, roundTimeoutSecs: 300 },
  mnist: { validation: 1000, test: 1000, roundTimeoutSecs: 120 },
  digits: { validation: 300, test: 297, roundTimeoutSecs: 60 },
};

/// The spec posted to `/api/fl/specs`: crates/federated's `TaskSpec` (version 2, snake_case, every
/// field present but `model`, named only for the CNN — the node refuses unknown fields), with SGD
/// lr 0.05 and batch 32, the default update checks and exact Shapley values up to 10 participants;
/// or the field that is wrong.
export function buildSpec(f: SpecForm, seed: number): { spec: Record<string, unknown> } | { problem: keyof SpecForm } {
  const posInt = (n: number, max: number) => Number.isInteger(n) && n >= 1 && n <= max;
  if (!(DATASETS as readonly string[]).includes(f.dataset)) return { problem: "dataset" };
  if (!(MODELS as readonly string[]).includes(f.model)) return { problem: "model" };
  if (f.partition.kind === "dirichlet" && !(f.partition.alpha > 0 && f.partition.alpha <= 1000)) return { problem: "partition" };
  if (!(AGGREGATORS as readonly string[]).includes(f.aggregator)) return { problem: "aggregator" };
  if (!posInt(f.blocks, 100_000)) return { problem: "blocks" };
  if (!Number.isInteger(f.blocksPerMember) || f.blocksPerMember < 0 || f.blocksPerMember > f.blocks) return { problem: "blocksPerMember" };
  if (!posInt(f.rounds, 1000)) return { problem: "rounds" };
  if (!posInt(f.localEpochs, 100)) return { problem: "localEpochs" };
  if (!posInt(f.minParticipants, 1000)) return { problem: "minParticipants" };
  const held = HELD_OUT[f.dataset];
  return {
    spec: {
      version: 2,
      dataset: f.dataset,
      ...(f.model === "cnn" ? { model: "cnn" } : {}),
      validation: held.validation,
      test: held.test,
      partition: f.partition.kind === "iid" ? { kind: "iid" } : { kind: "dirichlet", alpha: f.partition.alpha },
      blocks: f.blocks,
      blocks_per_member: f.blocksPerMember,
      rounds: f.rounds,
      train: { epochs: f.localEpochs, lr: 0.05, batch: 32 },
      aggregator: f.aggregator === "trimmed_mean" ? { kind: "trimmed_mean", trim: 0.1 } : { kind: f.aggregator },
      checks: { max_vs_global: 10.0, max_vs_others: 10.0, min_others: 2 },
      shapley: { kind: "exact", up_to: 10 },
      seed,
      round_timeout_secs: held.roundTimeoutSecs,
      min_participants: f.minParticipants,
    },
  };
}

/// A seed for a new task's spec (any u32: JSON carries it exactly).
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/// Shares out of `TOTAL_SHARES` as a percentage with two decimals, cut not rounded (`33.33%`).
export function sharePercent(shares: bigint): string {
  const bp = (shares * 10000n) / TOTAL_SHARES;
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, "0")}%`;
}

/// A task's dataset's class names are Fashion-MNIST's (`fl.class.N` in the message files) unless the
/// spec names a digits set, whose classes are the digits themselves.
export function classKind(specInfo: Record<string, unknown> | null): "fashion" | "digit" {
  const d = typeof specInfo?.dataset === "string" ? specInfo.dataset.toLowerCase() : "fashion-mnist";
  return d.includes("fashion") ? "fashion" : /mnist|digit/.test(d) ? "digit" : "fashion";
}
