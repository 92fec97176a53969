import { afterEach, describe, expect, it, vi } from "vitest";
import type { NetworkInfo } from "./api";
import {
  camelKeys,
  coordinatorOf,
  federatedMarketOf,
  flApi,
  lastSeq,
  mergeLogs,
  parseAccount,
  parseLogs,
  parseMode,
  parsePrediction,
  parseResult,
  parseRounds,
  parseSpecAnswer,
  parseState,
  parseTask,
  parseTasks,
  tasksQuery,
} from "./fl";
import { A, account, B, COORD, ETH, INVESTOR, logs, rounds, taskDetail, taskList, TOKEN } from "./fixtures/fl";

describe("reading the fl answers", () => {
  it("turns snake_case keys into camelCase, deeply", () => {
    expect(camelKeys({ record_cid: "x", a_b: [{ c_d: 1 }] })).toEqual({ recordCid: "x", aB: [{ cD: 1 }] });
  });

  it("reads a task with terms nested, amounts as bigints and addresses lower-case", () => {
    const t = parseTask(taskDetail);
    expect(t.id).toBe(3);
    expect(t.mode).toBe("reward");
    expect(t.state).toBe("Training");
    expect(t.investor).toBe(INVESTOR);
    expect(t.coordinator).toBe(COORD);
    expect(t.token).toBe(ETH);
    expect(t.pool).toBe(1000n * 10n ** 18n);
    expect(t.blockPrice).toBe(10n * 10n ** 18n);
    expect(t.blockToken).toBe(TOKEN);
    expect(t.totalBlocks).toBe(100);
    expect(t.blocksSold).toBe(3);
    expect(t.startDeadline).toBe(1_800_000_000);
    expect(t.finishDeadline).toBe(Date.parse("2026-11-30T00:00:00Z") / 1000);
    expect(t.members).toEqual([
      { account: A, blocks: 11, joined: true },
      { account: B, blocks: 10, joined: true },
    ]);
    expect(t.memberCount).toBe(2);
    expect(t.claims[0].amount).toBe(600n * 10n ** 18n);
    expect(t.round).toBe(4);
    expect(t.rounds).toBe(10);
  });

  it("reads a list whose members are a count", () => {
    const list = parseTasks(taskList);
    expect(list.map((t) => [t.id, t.mode, t.state, t.memberCount, t.members.length])).toEqual([
      [3, "reward", "Training", 2, 0],
      [4, "shares", "Finished", 2, 0],
    ]);
    expect(list[1].predictionFee).toBe(5n * 10n ** 17n);
  });

  it("refuses an amount that is not a decimal integer, naming the field", () => {
    expect(() => parseTask({ ...taskDetail, terms: { ...taskDetail.terms, pool: "1.5" } })).toThrow(/pool/);
    expect(() => parseTask({ ...taskDetail, terms: { ...taskDetail.terms, pool: 1e30 } })).toThrow(/pool/);
    expect(() => parseTask({ ...taskDetail, terms: { ...taskDetail.terms, investor: "0x12" } })).toThrow(/investor/);
    expect(() => parseTask({ ...taskDetail, state: "Sleeping" })).toThrow(/state/);
  });

  it("names modes and states however the node spells them", () => {
    expect(["RewardPool", "reward_pool", "reward", 0].map(parseMode)).toEqual(["reward", "reward", "reward", "reward"]);
    expect(["Shareholding", "shares", 1].map(parseMode)).toEqual(["shares", "shares", "shares"]);
    expect(parseState("finished")).toBe("Finished");
    expect(parseState(2)).toBe("Training");
    expect(() => parseState(0)).toThrow();
  });

  it("orders rounds and keeps negative contributions as given", () => {
    const r = parseRounds(rounds);
    expect(r.map((x) => x.round)).toEqual([1, 2]);
    expect(r[1].participants[1]).toEqual({ account: B, loss: 0.59, samples: 5400, value: -0.01 });
    expect(r[0].aggregatedAt).toBe(1_800_000_050);
  });

  it("merges polled logs once per seq, in order, and asks after the last", () => {
    const first = parseLogs(logs);
    expect(first[1].at).toBe(Date.parse("2026-11-27T19:00:00Z") / 1000);
    const again = parseLogs([logs[1], { seq: 9, at: null, level: "info", message: "round 2" }]);
    const merged = mergeLogs(first, again);
    expect(merged.map((l) => l.seq)).toEqual([7, 8, 9]);
    expect(lastSeq(merged)).toBe(9);
    expect(lastSeq([])).toBe(0);
    expect(mergeLogs([], merged, 2).map((l) => l.seq)).toEqual([8, 9]);
  });

  it("passes a reward proof through unchanged", () => {
    const proof = [`0x${"11".repeat(32)}`, `0x${"22".repeat(32)}`];
    const r = parseResult({ kind: "rewards", record_cid: "bafkrec", amount: "600000000000000000000", proof });
    expect(r).toEqual({ kind: "rewards", recordCid: "bafkrec", amount: 600n * 10n ** 18n, proof });
    expect(parseResult({ kind: "shares", record_cid: "b", amount: "1", proof: [] }).kind).toBe("shares");
    expect(() => parseResult({ kind: "rewards", amount: "1", proof: ["0x12"] })).toThrow(/proof/);
  });

  it("reads a prediction, taking the confidence from the probabilities when absent", () => {
    const probabilities = [0.01, 0, 0, 0.9, 0.09, 0, 0, 0, 0, 0];
    expect(parsePrediction({ class: 3, label: "Dress", confidence: 0.93, probabilities })).toMatchObject({ class: 3, label: "Dress", confidence: 0.93 });
    expect(parsePrediction({ class: 3, probabilities }).confidence).toBe(0.9);
    expect(() => parsePrediction({ class: 12, probabilities })).toThrow(/class/);
  });

  it("reads an account's memberships, shares, claims, predictions and revenue", () => {
    const a = parseAccount(account);
    expect(a.memberships).toEqual([{ taskId: 3, blocks: 11, state: "Training", mode: "reward" }]);
    expect(a.shares[0]).toEqual({ taskId: 4, shares: 333333333333333334n, token: TOKEN, withdrawable: 166666666666666667n, withdrawn: null });
    expect(a.claims[0].tx).toBe(`0x${"ab".repeat(32)}`);
    expect(a.predictions[0]).toMatchObject({ taskId: 4, requestId: "9", fee: 5n * 10n ** 17n });
    expect(a.revenue[0]).toEqual({ taskId: 2, amount: 7n, token: TOKEN, source: "prediction" });
  });

  it("reads the spec's CID and refuses an empty one", () => {
    expect(parseSpecAnswer({ cid: "bafkspec" })).toEqual({ cid: "bafkspec", coordinator: null });
    expect(() => parseSpecAnswer({ cid: "" })).toThrow(/cid/);
  });

  it("finds the market and the coordinator in /api/network, in either spelling", () => {
    const base = { chainId: 1 } as unknown as NetworkInfo;
    expect(federatedMarketOf(null)).toBeNull();
    expect(federatedMarketOf(base)).toBeNull();
    expect(federatedMarketOf({ ...base, federated_market: TOKEN.toUpperCase().replace("0X", "0x") } as unknown as NetworkInfo)).toBe(TOKEN);
    expect(federatedMarketOf({ ...base, federatedMarket: null } as unknown as NetworkInfo)).toBeNull();
    expect(coordinatorOf({ ...base, flCoordinator: COORD } as unknown as NetworkInfo)).toBe(COORD);
  });

  it("builds the list's query", () => {
    expect(tasksQuery({})).toBe("");
    expect(tasksQuery({ state: "Open", mode: "shares", account: "0xABC" })).toBe("?state=Open&mode=shares&account=0xabc");
  });
});

describe("the fl client", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("posts the prediction with request_id and base64 pixels, and reads the answer", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ class: 3, label: "Dress", confidence: 0.93, probabilities: [0, 0, 0, 0.93] }), { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    const r = await flApi.predict(3, 12n, "AAAA");
    expect(r.label).toBe("Dress");
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/fl/tasks/3/predict");
    expect(JSON.parse(init.body as string)).toEqual({ request_id: "12", pixels: "AAAA" });
  });

  it("turns the API's error body into an ApiError, and a malformed answer into a named one", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: { code: "forbidden", message: "no dev chain here" } }), { status: 403 })));
    await expect(flApi.faucet(A)).rejects.toMatchObject({ status: 403, code: "forbidden", message: "no dev chain here" });
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ eth: "x", token: "1", txs: [] }), { status: 200 })));
    await expect(flApi.faucet(A)).rejects.toMatchObject({ code: "bad_answer" });
  });
});
