import { describe, expect, it } from "vitest";
import { normaliseJobs, parseServerMsg, settleOutcome, wsUrl } from "./assistant";

describe("frames from the node", () => {
  it("are read when they have the documented shape", () => {
    expect(parseServerMsg('{"type":"chunk","requestId":"r1","seq":1,"text":"Hel","tokens":2,"cost":"7","cumulative":"107"}')).toEqual({
      type: "chunk",
      requestId: "r1",
      seq: 1,
      text: "Hel",
      tokens: 2,
      cost: "7",
      cumulative: "107",
    });
    expect(parseServerMsg('{"type":"error","code":"owed","message":"pay 5","owed":"5"}')).toMatchObject({ code: "owed", owed: "5" });
    expect(parseServerMsg('{"type":"paid","requestId":"r","accepted":"5"}')).not.toBeNull();
  });
  it("are ignored otherwise", () => {
    for (const bad of [
      "not json",
      "[]",
      '{"type":"chunk","requestId":"r1","seq":0,"text":"","tokens":1,"cost":"1","cumulative":"1"}',
      '{"type":"chunk","requestId":"r1","seq":1,"text":"","tokens":1,"cost":1,"cumulative":"1"}',
      '{"type":"chunk","requestId":"r1","seq":1,"text":"","tokens":1,"cost":"0x1","cumulative":"1"}',
      '{"type":"done","requestId":"r1","finish":"exploded","promptTokens":1,"completionTokens":1,"cost":"1","cumulative":"1"}',
      '{"type":"surprise"}',
    ]) {
      expect(parseServerMsg(bad), bad).toBeNull();
    }
  });
  it("come over the page's own origin", () => {
    expect(wsUrl({ protocol: "http:", host: "127.0.0.1:8080" })).toBe("ws://127.0.0.1:8080/api/assistant/ws");
    expect(wsUrl({ protocol: "https:", host: "agora.example" })).toBe("wss://agora.example/api/assistant/ws");
  });
});

describe("jobs", () => {
  it("read the documented shape", () => {
    const jobs = normaliseJobs([{ name: "channel-expiry", paused: true, runs: [] }]);
    expect(jobs.find((j) => j.name === "channel-expiry")).toEqual({ name: "channel-expiry", paused: true, runs: [] });
    expect(jobs.map((j) => j.name)).toEqual(["channel-auto-settle", "channel-expiry"]);
  });
  it("group a flat list of runs by job", () => {
    const run = { job: "channel-auto-settle", startedAtMs: 1, finishedAtMs: 2, channelsTouched: 0, errors: [] };
    expect(normaliseJobs([run])[0].runs).toHaveLength(1);
    expect(normaliseJobs("nope")).toEqual([]);
  });
});

describe("an admin's settle now", () => {
  const id = `0x${"ab".repeat(32)}`;
  const run = (channelsTouched: number, errors: string[]) => ({ job: "channel-auto-settle", startedAtMs: 1, finishedAtMs: 2, channelsTouched, errors });
  it("is settled when the run closed the channel", () => {
    expect(settleOutcome(id, run(1, []))).toEqual({ kind: "settled" });
  });
  it("shows the node's reasons when it could not, without the channel id it is shown beside", () => {
    expect(settleOutcome(id, run(0, [`${id}: no voucher to settle with`]))).toEqual({ kind: "failed", message: "no voucher to settle with" });
    expect(settleOutcome(id.toUpperCase().replace("0X", "0x"), run(0, [`${id}: ChannelExpired(…)`, "other"]))).toEqual({
      kind: "failed",
      message: "ChannelExpired(…); other",
    });
    expect(settleOutcome(id, run(0, []))).toEqual({ kind: "failed", message: "nothing was settled" });
    expect(settleOutcome(id, { error: "x" }).kind).toBe("failed");
    expect(settleOutcome(id, undefined).kind).toBe("failed");
  });
});
