import { describe, expect, it } from "vitest";
import type { ServerMsg } from "./assistant";
import {
  activeReply,
  conversationMessages,
  conversationReducer,
  emptyConversation,
  newReply,
  receive,
  resumeMessage,
  signed,
  startMessage,
  type ChannelView,
  type Reply,
} from "./chat";

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
