import { describe, expect, it } from "vitest";
import type { ServerMsg } from "./assistant";
import {
  activeReply,
  conversationKey,
  conversationMessages,
  conversationReducer,
  emptyConversation,
  loadConversation,
  MAX_KEPT_TURNS,
  newReply,
  parseTurns,
  saveConversation,
  serializeTurns,
  receive,
  resumeMessage,
  signed,
  startMessage,
  type ChannelView,
  type Reply,
  type Turn,
} from "./chat";
import { memoryStore } from "./sessionKeys";

const CH = `0x${"ab".repeat(32)}` as const;
const prices = { promptPer1k: 1000n, completionPer1k: 3000n };
const channel: ChannelView = { deposit: 10_000n, highestSigned: 100n, closed: false, hasRecord: true };
const SIG = `0x${"11".repeat(65)}` as const;

function fresh(): Reply {
  return newReply({ requestId: "r1", channelId: CH, model: "m", prices, maxTokens: 64, messages: [{ role: "user", content: "hi" }] });
}
const started: ServerMsg = { type: "started", requestId: "r1", base: "100", promptTokens: 20, maxCost: "212" };
// cost(20, c) = ceil((20000 + 3000c) / 1000) = 20 + 3c
const chunk = (seq: number, tokens: number, total: number, over: Partial<{ cost: string; cumulative: string }> = {}): ServerMsg => ({
  type: "chunk",
  requestId: "r1",
  seq,
  text: `t${seq} `,
  tokens,
  cost: String(20 + 3 * total),
  cumulative: String(120 + 3 * total),
  ...over,
});

function run(msgs: ServerMsg[], ch = channel, r = fresh()): Reply {
  return msgs.reduce((acc, m) => receive(acc, m, ch), r);
}

describe("a reply", () => {
  it("streams, asks for each chunk's exact amount, and ends paid", () => {
    let r = run([started, chunk(1, 2, 2)]);
    expect(r.phase).toBe("streaming");
    expect(r.pending).toEqual({ seq: 1, amount: 126n });
    r = signed(r, { amount: "126", signature: SIG });
    expect(r.pending).toBeNull();
    expect(r.unacked?.amount).toBe("126");
    r = run([{ type: "paid", requestId: "r1", accepted: "126" }, chunk(2, 3, 5)], channel, r);
    expect(r.unacked).toBeNull();
    expect(r.chunks[0]).toMatchObject({ paid: true, signature: SIG });
    expect(r.pending).toEqual({ seq: 2, amount: 135n });
    r = run(
      [{ type: "done", requestId: "r1", finish: "stop", promptTokens: 20, completionTokens: 5, cost: "35", cumulative: "135" }],
      channel,
      r,
    );
    expect(r.phase).toBe("done");
    expect(r.cost).toBe(35n);
    expect(r.text).toBe("t1 t2 ");
    // the last chunk still needs paying after done
    expect(r.pending).toEqual({ seq: 2, amount: 135n });
  });

  it("ignores a chunk it already holds (replayed after resume)", () => {
    const r = run([started, chunk(1, 2, 2), chunk(1, 2, 2)]);
    expect(r.text).toBe("t1 ");
    expect(r.chunks).toHaveLength(1);
  });

  it("stops at a gap in the chunks", () => {
    const r = run([started, chunk(2, 2, 2)]);
    expect(r.phase).toBe("refused");
    expect(r.refusal).toEqual({ reason: "out_of_order", seq: 2, expected: 1 });
  });

  it("refuses a chunk whose increment is not the price", () => {
    const r = run([started, chunk(1, 2, 2), chunk(2, 3, 5, { cost: "36", cumulative: "136" })]);
    expect(r.phase).toBe("refused");
    expect(r.refusal).toMatchObject({ reason: "price_mismatch", expected: 135n });
    expect(r.pending).toBeNull();
  });

  it("refuses a decreasing amount", () => {
    const r = run([started, chunk(1, 2, 2)], { ...channel, highestSigned: 200n, hasRecord: false });
    // base 100 below the 200 already signed
    expect(r.phase).toBe("refused");
    expect(r.refusal).toMatchObject({ reason: "decreasing" });
  });

  it("refuses an amount over the deposit", () => {
    const r = run([started, chunk(1, 2, 2)], { ...channel, deposit: 125n });
    expect(r.refusal).toEqual({ reason: "over_deposit", amount: 126n, deposit: 125n });
  });

  it("keeps the unpaid chunk after a payment timeout, drops it for a closed channel", () => {
    const timeout: ServerMsg = { type: "error", requestId: "r1", code: "payment_timeout", message: "no voucher", owed: "126" };
    const t = run([started, chunk(1, 2, 2), timeout]);
    expect(t.phase).toBe("failed");
    expect(t.error).toMatchObject({ code: "payment_timeout", owed: 126n });
    expect(t.pending).toEqual({ seq: 1, amount: 126n });
    const closed = run([started, chunk(1, 2, 2), { type: "error", requestId: "r1", code: "channel_closed", message: "closed" }]);
    expect(closed.pending).toBeNull();
  });

  it("resumes with the last chunk held and the voucher not acknowledged", () => {
    let r = fresh();
    expect(resumeMessage(r)).toEqual(startMessage(r));
    r = signed(run([started, chunk(1, 2, 2)]), { amount: "126", signature: SIG });
    expect(resumeMessage(r)).toEqual({ type: "resume", requestId: "r1", received: 1, voucher: { amount: "126", signature: SIG } });
    r = run([{ type: "paid", requestId: "r1", accepted: "126" }], channel, r);
    expect(resumeMessage(r)).toEqual({ type: "resume", requestId: "r1", received: 1 });
  });

  it("sends the prices it showed with start", () => {
    expect(startMessage(fresh())).toMatchObject({ type: "start", prices: { prompt: "1000", completion: "3000" }, maxTokens: 64 });
  });
});

describe("the conversation", () => {
  it("routes messages to their reply, and errors without an id to the reply in flight", () => {
    let c = conversationReducer(emptyConversation, { type: "send", prompt: "hi", reply: fresh() });
    expect(activeReply(c)?.requestId).toBe("r1");
    c = conversationReducer(c, { type: "server", msg: { type: "error", code: "busy", message: "busy" }, channel });
    expect(c.turns[0].reply.error?.code).toBe("busy");
    expect(activeReply(c)).toBeNull();
  });
  it("sends earlier turns with the new message", () => {
    const done = { ...fresh(), text: "hello!", phase: "done" as const };
    expect(conversationMessages([{ prompt: "hi", reply: done }], "more")).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello!" },
      { role: "user", content: "more" },
    ]);
  });
});

describe("the conversation kept across reloads", () => {
  const A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  const B = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const doneReply = (id: string, text = "hello!"): Reply => ({
    ...run([started, chunk(1, 2, 2), { type: "paid", requestId: "r1", accepted: "126" }, { type: "done", requestId: "r1", finish: "stop", promptTokens: 20, completionTokens: 2, cost: "26", cumulative: "126" }]),
    requestId: id,
    text,
  });
  const turn = (id: string, text?: string): Turn => ({ prompt: `q ${id}`, reply: doneReply(id, text) });

  it("restores each turn's text and cost, amounts as bigints, per wallet and chain", () => {
    const store = memoryStore();
    const key = conversationKey(31337, A);
    expect(key).toBe(conversationKey(31337, A.toLowerCase()));
    let c = conversationReducer(emptyConversation, { type: "load", owner: key, turns: [] });
    c = conversationReducer(c, { type: "send", prompt: "q 1", reply: doneReply("1") });
    saveConversation(store, c);
    const back = loadConversation(store, key);
    expect(back.owner).toBe(key);
    expect(back.turns).toHaveLength(1);
    expect(back.turns[0].prompt).toBe("q 1");
    expect(back.turns[0].reply).toMatchObject({ requestId: "1", text: "hello!", phase: "done", cost: 26n, promptTokens: 20, completionTokens: 2, accepted: 126n });
    expect(back.turns[0].reply.prices).toEqual(prices);
    // the next request is built from it as before the reload
    expect(conversationMessages(back.turns, "more")).toEqual(conversationMessages(c.turns, "more"));
    // another wallet, or the same on another chain, has its own
    expect(loadConversation(store, conversationKey(31337, B)).turns).toEqual([]);
    expect(loadConversation(store, conversationKey(1, A)).turns).toEqual([]);
  });

  it("keeps what a reply needs to resume or retry, and drops what a finished one no longer needs", () => {
    const live = run([started, chunk(1, 2, 2)]); // a chunk waiting for its voucher
    const failed = run([started, { type: "error", requestId: "r1", code: "busy", message: "busy" }]);
    const [d, l, f] = parseTurns(serializeTurns([turn("d"), { prompt: "l", reply: live }, { prompt: "f", reply: failed }]));
    expect(d.reply.messages).toEqual([]);
    expect(d.reply.chunks).toEqual([]);
    expect(l.reply).toEqual(live);
    expect(resumeMessage(l.reply)).toEqual(resumeMessage(live));
    expect(f.reply.messages).toEqual(failed.messages);
    expect(f.reply.error).toEqual(failed.error);
  });

  it("drops the oldest turns beyond the limits", () => {
    const many = Array.from({ length: MAX_KEPT_TURNS + 5 }, (_, i) => turn(String(i)));
    const kept = parseTurns(serializeTurns(many));
    expect(kept).toHaveLength(MAX_KEPT_TURNS);
    expect(kept[0].reply.requestId).toBe("5");
    expect(kept.at(-1)?.reply.requestId).toBe(String(MAX_KEPT_TURNS + 4));
    // by size: long replies push the oldest out, the newest stays
    const long = Array.from({ length: 10 }, (_, i) => turn(String(i), "x".repeat(1000)));
    const text = serializeTurns(long, 50, 5_000);
    expect(text.length).toBeLessThanOrEqual(5_000);
    const bySize = parseTurns(text);
    expect(bySize.length).toBeGreaterThan(0);
    expect(bySize.length).toBeLessThan(10);
    expect(bySize.at(-1)?.reply.requestId).toBe("9");
  });

  it("reads nothing from a damaged or foreign value, and clears the key for a new conversation", () => {
    expect(parseTurns(null)).toEqual([]);
    expect(parseTurns("{not json")).toEqual([]);
    expect(parseTurns(JSON.stringify({ v: 99, turns: [] }))).toEqual([]);
    expect(parseTurns(JSON.stringify({ v: 1, turns: [{ prompt: "x", reply: { requestId: "r" } }] }))).toEqual([]);
    const store = memoryStore();
    const key = conversationKey(31337, A);
    let c = conversationReducer(emptyConversation, { type: "load", owner: key, turns: [turn("1")] });
    saveConversation(store, c);
    expect(store.data.has(key)).toBe(true);
    c = conversationReducer(c, { type: "clear" });
    expect(c).toEqual({ owner: key, turns: [] });
    saveConversation(store, c);
    expect(store.data.has(key)).toBe(false);
    // nothing is saved before a wallet's conversation is loaded
    saveConversation(store, conversationReducer(emptyConversation, { type: "send", prompt: "q", reply: fresh() }));
    expect(store.data.size).toBe(0);
  });
});
