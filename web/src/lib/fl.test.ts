import { afterEach, describe, expect, it, vi } from "vitest";
import type { NetworkInfo } from "./api";
import { ApiError } from "./api";
import {
  accountTaskIds,
  askUntilSeen,
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
  parseSpecInfo,
  parseState,
  parseTask,
  parseTasks,
  plannedRounds,
  specName,
  tasksQuery,
} from "./fl";
import { camelKeys } from "./flJson";
import { A, account, B, COORD, ETH, INVESTOR, logs, result, rounds, taskDetail, taskList, taskRow, TOKEN } from "./fixtures/fl";

describe("reading the fl answers", () => {
  it("turns snake_case keys into camelCase, deeply", () => {
    expect(camelKeys({ record_cid: "x", a_b: [{ c_d: 1 }] })).toEqual({ recordCid: "x", aB: [{ cD: 1 }] });
  });

  it("reads a task's detail: the task nested, amounts as bigints, addresses lower-case", () => {
    const t = parseTask(taskDetail);
    expect(t.id).toBe(3);
    expect(t.mode).toBe("reward");
    expect(t.state).toBe("Finished");
    expect(t.investor).toBe(INVESTOR);
    expect(t.coordinator).toBe(COORD);
    expect(t.token).toBe(ETH);
    expect(t.pool).toBe(1000n * 10n ** 18n);
    expect(t.blockPrice).toBe(10n * 10n ** 18n);
    expect(t.blockToken).toBe(TOKEN);
    expect([t.totalBlocks, t.blocksSold, t.minParticipants]).toEqual([100, 3, 2]);
    expect([t.startDeadline, t.finishDeadline]).toEqual([1_800_000_000, 1_800_086_400]);
    expect(t.members).toEqual([
      { account: A, blocks: 11, active: true, escrowed: 10n ** 19n },
      { account: B, blocks: 10, active: true, escrowed: 0n },
      { account: COORD, blocks: 10, active: false, escrowed: 0n },
    ]);
    // The detail's task carries the count of members still in.
    expect(t.memberCount).toBe(2);
    expect(t.claims).toEqual([{ account: A, amount: 600n * 10n ** 18n, tx: `0x${"ab".repeat(32)}` }]);
    expect(t.rewardRoot).toBe(`0x${"12".repeat(32)}`);
    expect(t.recordCid).toBe("bafkrec");
    expect(t.specInfo).toBeNull();
  });

  it("reads the list, whose members are a count", () => {
    const list = parseTasks(taskList);
    expect(list.map((t) => [t.id, t.mode, t.state, t.memberCount, t.members.length])).toEqual([
      [3, "reward", "Training", 2, 0],
      [4, "shares", "Finished", 2, 0],
    ]);
    expect(list[1].predictionFee).toBe(5n * 10n ** 17n);
  });

  it("reads snake_case and RFC 3339 times too", () => {
    const t = parseTask({ ...taskRow, prediction_fee: "5", predictionFee: undefined, finishDeadline: "2026-11-30T00:00:00Z" });
    expect(t.predictionFee).toBe(5n);
    expect(t.finishDeadline).toBe(Date.parse("2026-11-30T00:00:00Z") / 1000);
  });

  it("refuses an amount that is not a decimal integer, naming the field", () => {
    expect(() => parseTask({ ...taskRow, pool: "1.5" })).toThrow(/pool/);
    expect(() => parseTask({ ...taskRow, pool: 1e30 })).toThrow(/pool/);
    expect(() => parseTask({ ...taskRow, investor: "0x12" })).toThrow(/investor/);
    expect(() => parseTask({ ...taskRow, state: "sleeping" })).toThrow(/state/);
  });

  it("names modes and states however the node spells them", () => {
    expect(["reward_pool", "RewardPool", "reward", 0].map(parseMode)).toEqual(["reward", "reward", "reward", "reward"]);
    expect(["shareholding", "Shareholding", "shares", 1].map(parseMode)).toEqual(["shares", "shares", "shares", "shares"]);
    expect(parseState("finished")).toBe("Finished");
    expect(parseState(2)).toBe("Training");
    expect(() => parseState(0)).toThrow();
  });

  it("reads the spec's planned rounds and name once the page has the spec", () => {
    const t = { ...parseTask(taskRow), specInfo: parseSpecInfo({ name: " Shirts ", rounds: 10, blocks_per_member: 5 }) };
    expect(plannedRounds(t)).toBe(10);
    expect(specName(t)).toBe("Shirts");
    expect(t.specInfo?.blocksPerMember).toBe(5);
    expect(plannedRounds(parseTask(taskRow))).toBeNull();
    expect(() => parseSpecInfo({ rounds: -1 })).toThrow(/rounds/);
  });

  it("orders rounds; a refused update counts zero; a missing accuracy stays missing", () => {
    const r = parseRounds(rounds);
    expect(r.map((x) => x.round)).toEqual([1, 2]);
    expect(r[0].accuracy).toBeNull();
    expect(r[1].participants[0]).toEqual({ account: A, samples: 6000, loss: 0.61, value: 0.03, refused: null });
    expect(r[1].participants[1]).toEqual({ account: B, samples: 5400, loss: null, value: 0, refused: "norm 1e9 above 100" });
    expect(r[0].aggregatedAt).toBe(1_800_000_050);
    expect(r.map((x) => x.recordCid)).toEqual([null, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"]);
  });

  it("merges polled logs once per seq, in order, and asks after the last", () => {
    const first = parseLogs(logs);
    const again = parseLogs([logs[1], { seq: 9, at: 1_800_000_070, level: "info", message: "round 2" }]);
    const merged = mergeLogs(first, again);
    expect(merged.map((l) => l.seq)).toEqual([7, 8, 9]);
    expect(lastSeq(merged)).toBe(9);
    expect(lastSeq([])).toBe(0);
    expect(mergeLogs([], merged, 2).map((l) => l.seq)).toEqual([8, 9]);
  });

  it("takes the account's entry of the result, its proof passed through unchanged", () => {
    const r = parseResult(result, A.toUpperCase().replace("0X", "0x"));
    expect(r).toEqual({ kind: "rewards", recordCid: "bafkrec", root: `0x${"12".repeat(32)}`, amount: 600n * 10n ** 18n, proof: result.entries[0].proof });
    expect(() => parseResult(result, B)).toThrow(/no entry/);
    expect(() => parseResult({ ...result, entries: [{ ...result.entries[0], proof: ["0x12"] }] }, A)).toThrow(/proof/);
    expect(parseResult({ ...result, kind: "shares", root: null }, A).kind).toBe("shares");
  });

  it("reads a prediction, taking the confidence from the probabilities when absent", () => {
    const probabilities = [0.01, 0, 0, 0.9, 0.09, 0, 0, 0, 0, 0];
    expect(parsePrediction({ class: 3, label: "Dress", confidence: 0.93, probabilities })).toMatchObject({ class: 3, label: "Dress", confidence: 0.93 });
    expect(parsePrediction({ class: 3, probabilities }).confidence).toBe(0.9);
    expect(() => parsePrediction({ class: 12, probabilities })).toThrow(/class/);
  });

  it("reads an account's memberships, shares, claims, dividends, predictions and revenue", () => {
    const a = parseAccount(account);
    expect(a.memberships).toEqual([{ taskId: 3, blocks: 11, active: true, escrowed: 0n }]);
    expect(a.shares).toEqual([{ taskId: 4, shares: 333333333333333334n }]);
    expect(a.claims[0]).toEqual({ taskId: 1, amount: 25n, tx: `0x${"ab".repeat(32)}` });
    expect(a.dividends[0]).toMatchObject({ taskId: 4, amount: 7n });
    expect(a.predictions[0]).toEqual({ taskId: 4, requestId: "9", fee: 5n * 10n ** 17n, tx: `0x${"ab".repeat(32)}`, at: 1_800_000_300 });
    expect(a.revenue[0]).toEqual({ taskId: 2, predictions: 3, predictionFees: 15n, blockRevenue: 20n });
    expect(accountTaskIds(a)).toEqual([1, 2, 3, 4]);
  });

  it("reads the spec's CID and refuses an empty one", () => {
    expect(parseSpecAnswer({ cid: "bafkspec" })).toEqual({ cid: "bafkspec", coordinator: null });
    expect(() => parseSpecAnswer({ cid: "" })).toThrow(/cid/);
  });

  it("finds the market and the coordinator in /api/network, in either spelling", () => {
    const base = { chainId: 1 } as unknown as NetworkInfo;
    expect(federatedMarketOf(null)).toBeNull();
    expect(federatedMarketOf(base)).toBeNull();
    expect(federatedMarketOf({ ...base, federatedMarket: TOKEN.toUpperCase().replace("0X", "0x") } as unknown as NetworkInfo)).toBe(TOKEN);
    expect(federatedMarketOf({ ...base, federated_market: TOKEN } as unknown as NetworkInfo)).toBe(TOKEN);
    expect(coordinatorOf({ ...base, flCoordinator: COORD } as unknown as NetworkInfo)).toBe(COORD);
  });

  it("spells the list's query as the API does", () => {
    expect(tasksQuery({})).toBe("");
    expect(tasksQuery({ state: "Open", mode: "shares", account: "0xABC" })).toBe("?state=open&mode=shareholding&account=0xabc");
    expect(tasksQuery({ mode: "reward" })).toBe("?mode=reward_pool");
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

  it("asks again while the node has not seen the paid request, and stops at any other answer", async () => {
    let calls = 0;
    const unseen = async () => {
      calls += 1;
      if (calls < 3) throw new ApiError(404, "not_found", "request 12 is unknown");
      return "answer";
    };
    await expect(askUntilSeen(unseen, 5, 0)).resolves.toBe("answer");
    expect(calls).toBe(3);
    calls = 0;
    const refuse = (status: number) => async () => {
      calls += 1;
      throw new ApiError(status, "refused", "no");
    };
    await expect(askUntilSeen(refuse(400), 5, 0)).rejects.toMatchObject({ status: 400 });
    expect(calls).toBe(1);
    calls = 0;
    await expect(askUntilSeen(refuse(409), 3, 0)).rejects.toMatchObject({ status: 409 });
    expect(calls).toBe(3);
  });

  it("turns the API's error body into an ApiError, and a malformed answer into a named one", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: { code: "forbidden", message: "no dev chain here" } }), { status: 403 })));
    await expect(flApi.faucet(A)).rejects.toMatchObject({ status: 403, code: "forbidden", message: "no dev chain here" });
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ eth: "x", token: "1", txs: [] }), { status: 200 })));
    await expect(flApi.faucet(A)).rejects.toMatchObject({ code: "bad_answer" });
  });
});
