import { decodeFunctionData, encodeEventTopics, encodeAbiParameters, type Hex, type TransactionReceipt } from "viem";
import { describe, expect, it } from "vitest";
import { federatedMarketAbi } from "./abi";
import {
  buildSpec,
  buyBlocksCall,
  canCancel,
  cancelCall,
  claimRewardCall,
  createTaskCall,
  DEFAULT_SPEC,
  hashPair,
  requestIdFromReceipt,
  requestPredictionCall,
  refundBlocksCall,
  rewardLeaf,
  taskIdFromReceipt,
  termsProblem,
  verifyRewardProof,
  type CreateTerms,
} from "./flCalls";
import { A, B, COORD, ETH, TOKEN } from "./fixtures/fl";

const MARKET = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as Hex;
const NOW = 1_800_000_000;
const terms: CreateTerms = {
  mode: "reward",
  coordinator: COORD,
  token: ETH,
  pool: 10n ** 18n,
  predictionFee: 0n,
  blockToken: TOKEN,
  blockPrice: 10n * 10n ** 18n,
  totalBlocks: 100,
  minParticipants: 2,
  startDeadline: NOW + 3600,
  finishDeadline: NOW + 86400,
  spec: "bafkspec",
};

describe("createTask", () => {
  it("sends an ETH pool as the value and a token pool without one", () => {
    const eth = createTaskCall(MARKET, terms);
    expect(eth.value).toBe(10n ** 18n);
    const d = decodeFunctionData({ abi: federatedMarketAbi, data: eth.data });
    expect(d.functionName).toBe("createTask");
    expect(d.args[0]).toMatchObject({ mode: 0, coordinator: expect.stringMatching(/^0x90f7/i), pool: 10n ** 18n, totalBlocks: 100, spec: "bafkspec" });
    expect(createTaskCall(MARKET, { ...terms, token: TOKEN }).value).toBe(0n);
    const shares = createTaskCall(MARKET, { ...terms, mode: "shares", pool: 0n, predictionFee: 5n });
    expect(shares.value).toBe(0n);
    expect(decodeFunctionData({ abi: federatedMarketAbi, data: shares.data }).args[0]).toMatchObject({ mode: 1, predictionFee: 5n });
  });

  it("refuses the terms the contract would refuse", () => {
    expect(termsProblem(terms, NOW)).toBeNull();
    expect(termsProblem({ ...terms, pool: 0n }, NOW)).toBe("pool");
    expect(termsProblem({ ...terms, pool: 2n ** 96n }, NOW)).toBe("pool");
    expect(termsProblem({ ...terms, mode: "shares", pool: 0n, predictionFee: 0n }, NOW)).toBe("fee");
    expect(termsProblem({ ...terms, mode: "shares", pool: 1n, predictionFee: 1n }, NOW)).toBe("pool");
    expect(termsProblem({ ...terms, startDeadline: NOW }, NOW)).toBe("deadlines");
    expect(termsProblem({ ...terms, finishDeadline: NOW + 366 * 86400 }, NOW)).toBe("deadlines");
    expect(termsProblem({ ...terms, minParticipants: 0 }, NOW)).toBe("participants");
    expect(termsProblem({ ...terms, coordinator: ETH }, NOW)).toBe("coordinator");
    expect(termsProblem({ ...terms, spec: "x".repeat(513) }, NOW)).toBe("spec");
  });
});

describe("members, predictions and claims", () => {
  it("pays blocks in ETH as the value only when the block token is ETH", () => {
    const c = buyBlocksCall(MARKET, 3, 2, TOKEN, 10n);
    expect(c.value).toBe(0n);
    expect(decodeFunctionData({ abi: federatedMarketAbi, data: c.data }).args).toEqual([3n, 2]);
    expect(buyBlocksCall(MARKET, 3, 2, ETH, 10n).value).toBe(20n);
    expect(() => buyBlocksCall(MARKET, 3, 0, TOKEN, 10n)).toThrow(/block count/);
  });

  it("pays a prediction's ETH fee as the value", () => {
    const h = `0x${"cd".repeat(32)}` as Hex;
    expect(requestPredictionCall(MARKET, 4, h, 7n, ETH).value).toBe(7n);
    const c = requestPredictionCall(MARKET, 4, h, 7n, TOKEN);
    expect(c.value).toBe(0n);
    expect(decodeFunctionData({ abi: federatedMarketAbi, data: c.data }).args).toEqual([4n, h]);
  });

  it("passes the node's proof to claimReward unchanged", () => {
    const proof = [`0x${"11".repeat(32)}`, `0x${"22".repeat(32)}`] as Hex[];
    const d = decodeFunctionData({ abi: federatedMarketAbi, data: claimRewardCall(MARKET, 3, A, 600n, proof).data });
    expect(d.functionName).toBe("claimReward");
    expect(d.args).toEqual([3n, expect.stringMatching(new RegExp(A, "i")), 600n, proof]);
  });
});

describe("cancelling", () => {
  const t = { state: "Open", investor: A, startDeadline: NOW + 100, finishDeadline: NOW + 200 };
  it("lets the investor cancel an open task, and anyone once its deadline passed", () => {
    expect(canCancel(t, A.toUpperCase().replace("0X", "0x"), NOW)).toBe(true);
    expect(canCancel(t, B, NOW)).toBe(false);
    expect(canCancel(t, null, NOW + 100)).toBe(true);
    expect(canCancel({ ...t, state: "Training" }, A, NOW + 199)).toBe(false);
    expect(canCancel({ ...t, state: "Training" }, B, NOW + 200)).toBe(true);
    expect(canCancel({ ...t, state: "Finished" }, A, NOW + 1000)).toBe(false);
  });
  it("encodes cancel and refundBlocks", () => {
    expect(decodeFunctionData({ abi: federatedMarketAbi, data: cancelCall(MARKET, 3).data }).args).toEqual([3n]);
    const d = decodeFunctionData({ abi: federatedMarketAbi, data: refundBlocksCall(MARKET, 3, A).data });
    expect(d.functionName).toBe("refundBlocks");
    expect(d.args).toEqual([3n, expect.stringMatching(new RegExp(A, "i"))]);
  });
});

describe("reward proofs (OpenZeppelin's standard tree)", () => {
  it("hashes a leaf as the contract does (vector from foundry's cast)", () => {
    // cast keccak $(cast keccak $(cast abi-encode "f(address,uint256)" A 600e18))
    expect(rewardLeaf(A, 600n * 10n ** 18n)).toBe("0x6762560a4c7dc0f5df149905aa0cfa317196bb2f17cd1ab183280ad3c0ee4801");
  });

  it("verifies every leaf of a three-leaf tree and refuses a changed amount", () => {
    const C = COORD;
    const la = rewardLeaf(A, 600n);
    const lb = rewardLeaf(B, 300n);
    const lc = rewardLeaf(C, 100n);
    const ab = hashPair(la, lb);
    const root = hashPair(ab, lc);
    expect(hashPair(la, lb)).toBe(hashPair(lb, la));
    expect(verifyRewardProof(root, A, 600n, [lb, lc])).toBe(true);
    expect(verifyRewardProof(root, B, 300n, [la, lc])).toBe(true);
    expect(verifyRewardProof(root, C, 100n, [ab])).toBe(true);
    expect(verifyRewardProof(root, A, 601n, [lb, lc])).toBe(false);
    expect(verifyRewardProof(root, B, 300n, [lc, la])).toBe(false);
  });
});

describe("ids from receipts", () => {
  const receipt = (eventName: "TaskCreated" | "PredictionRequested", args: Record<string, unknown>, data: Hex) =>
    ({
      transactionHash: `0x${"00".repeat(32)}`,
      logs: [
        {
          address: MARKET.toUpperCase().replace("0X", "0x"),
          topics: encodeEventTopics({ abi: federatedMarketAbi, eventName, args } as never),
          data,
        },
      ],
    }) as unknown as TransactionReceipt;

  it("reads the task id from TaskCreated and the request id from PredictionRequested", () => {
    const created = receipt(
      "TaskCreated",
      { taskId: 5n, investor: A, coordinator: COORD },
      encodeAbiParameters([{ type: "uint8" }, { type: "address" }, { type: "uint256" }, { type: "uint256" }, { type: "string" }], [0, ETH, 1n, 0n, "bafk"]),
    );
    expect(taskIdFromReceipt(MARKET, created)).toBe(5);
    const paid = receipt(
      "PredictionRequested",
      { requestId: 12n, taskId: 4n, payer: A },
      encodeAbiParameters([{ type: "uint256" }, { type: "bytes32" }], [7n, `0x${"cd".repeat(32)}`]),
    );
    expect(requestIdFromReceipt(MARKET, paid)).toBe(12n);
    expect(() => taskIdFromReceipt(MARKET, paid)).toThrow(/TaskCreated/);
    expect(() => taskIdFromReceipt("0x0000000000000000000000000000000000000001", created)).toThrow(/TaskCreated/);
  });

  it("refuses a receipt without the event", () => {
    const empty = { transactionHash: `0x${"00".repeat(32)}`, logs: [] } as unknown as TransactionReceipt;
    expect(() => requestIdFromReceipt(MARKET, empty)).toThrow(/PredictionRequested/);
  });
});

describe("task specs", () => {
  it("builds crates/federated's TaskSpec, every field present", () => {
    const r = buildSpec({ ...DEFAULT_SPEC, partition: { kind: "dirichlet", alpha: 0.1 }, aggregator: "trimmed_mean" }, 7);
    expect(r).toEqual({
      spec: {
        version: 2,
        dataset: "fashion-mnist",
        validation: 1000,
        test: 0,
        partition: { kind: "dirichlet", alpha: 0.1 },
        blocks: 100,
        blocks_per_member: 5,
        rounds: 10,
        train: { epochs: 1, lr: 0.05, batch: 32 },
        aggregator: { kind: "trimmed_mean", trim: 0.1 },
        checks: { max_vs_global: 10, max_vs_others: 10, min_others: 2 },
        shapley: { kind: "exact", up_to: 10 },
        seed: 7,
        round_timeout_secs: 300,
        min_participants: 2,
      },
    });
    const digits = buildSpec({ ...DEFAULT_SPEC, dataset: "digits", blocks: 30, blocksPerMember: 2, rounds: 3 }, 1);
    expect(digits).toMatchObject({ spec: { dataset: "digits", validation: 300, test: 297, partition: { kind: "iid" }, aggregator: { kind: "fed_avg" }, round_timeout_secs: 60 } });
    // The MLP is the spec's default and left out (the node writes it that way); the CNN is named.
    expect("model" in (r as { spec: Record<string, unknown> }).spec).toBe(false);
    const mnist = buildSpec({ ...DEFAULT_SPEC, dataset: "mnist", model: "cnn", blocks: 40, blocksPerMember: 4 }, 3);
    expect(mnist).toMatchObject({ spec: { dataset: "mnist", model: "cnn", validation: 1000, test: 1000, blocks: 40, round_timeout_secs: 120 } });
    const keys = Object.keys((mnist as { spec: Record<string, unknown> }).spec);
    expect(keys.slice(0, 4)).toEqual(["version", "dataset", "model", "validation"]);
  });
  it("names the wrong field", () => {
    expect(buildSpec({ ...DEFAULT_SPEC, partition: { kind: "dirichlet", alpha: 0 } }, 1)).toEqual({ problem: "partition" });
    expect(buildSpec({ ...DEFAULT_SPEC, blocksPerMember: 101 }, 1)).toEqual({ problem: "blocksPerMember" });
    expect(buildSpec({ ...DEFAULT_SPEC, rounds: 1.5 }, 1)).toEqual({ problem: "rounds" });
    expect(buildSpec({ ...DEFAULT_SPEC, dataset: "cifar10" as never }, 1)).toEqual({ problem: "dataset" });
    expect(buildSpec({ ...DEFAULT_SPEC, model: "resnet" as never }, 1)).toEqual({ problem: "model" });
  });
});

describe("shares and classes", () => {
  it("shows shares as a percentage cut to two decimals", async () => {
    const { sharePercent, classKind } = await import("./flCalls");
    expect(sharePercent(10n ** 18n)).toBe("100.00%");
    expect(sharePercent(333333333333333334n)).toBe("33.33%");
    expect(sharePercent(5n * 10n ** 15n)).toBe("0.50%");
    expect(sharePercent(0n)).toBe("0.00%");
    expect(classKind({ dataset: "fashion-mnist" })).toBe("fashion");
    expect(classKind({ dataset: "digits" })).toBe("digit");
    expect(classKind({ dataset: "mnist" })).toBe("digit");
    expect(classKind(null)).toBe("fashion");
  });
});
