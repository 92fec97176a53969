import { describe, expect, it } from "vitest";
import type { Channel, DataOrder, Task } from "./api";
import { channelLines, newestTasks, openRemaining, orderLines, orderTotals, receivedPercent, recent, tasksByStatus, totalsByToken } from "./activity";

const ME = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as const;
const OTHER = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" as const;
const ETH = "0x0000000000000000000000000000000000000000" as const;
const AMT = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as const;

function task(id: number, createdAt: number, status: Task["status"]): Task {
  return { id, user: ME, serviceId: 1, amount: "1000", token: AMT, status, createdBlock: id, createdTx: "0x", createdAt, updatedBlock: id, updatedAt: createdAt };
}

function channel(n: number, over: Partial<Channel>): Channel {
  return {
    id: `0x${n.toString(16).padStart(64, "0")}`,
    payer: ME,
    payee: OTHER,
    token: ETH,
    signer: OTHER,
    salt: `0x${"00".repeat(32)}`,
    deposit: "1000",
    spent: "0",
    expiry: 2_000,
    state: "Open",
    ...over,
  };
}

function order(n: number, over: Partial<DataOrder>): DataOrder {
  return {
    id: `0x${n.toString(16).padStart(64, "0")}`,
    buyer: ME,
    seller: OTHER,
    token: AMT,
    price: "500",
    totalBytes: 4096,
    deadline: 3_000,
    startedFrom: 0,
    nonce: "1",
    ackSigner: OTHER,
    method: "Escrow",
    state: "Open",
    received: 0,
    openedBlock: n,
    openedTx: `0x${"ab".repeat(32)}`,
    openedAt: 1_000 + n,
    ...over,
  };
}

describe("recent", () => {
  it("keeps the first ten and counts the rest", () => {
    const r = recent(Array.from({ length: 13 }, (_, i) => i));
    expect(r.items).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.total).toBe(13);
    expect(r.more).toBe(3);
  });

  it("leaves nothing out of a short list", () => {
    expect(recent(["a", "b"], 10)).toEqual({ items: ["a", "b"], total: 2, more: 0 });
    expect(recent([], 10)).toEqual({ items: [], total: 0, more: 0 });
  });
});

describe("compute tasks", () => {
  it("lists the latest bought first, the higher id first within a second", () => {
    const sorted = newestTasks([task(1, 100, "Completed"), task(3, 300, "Running"), task(2, 300, "Created"), task(4, 50, "Refunded")]);
    expect(sorted.map((t) => t.id)).toEqual([3, 2, 1, 4]);
  });

  it("counts tasks per status, running first, statuses with none left out", () => {
    const tasks = [task(1, 1, "Completed"), task(2, 2, "Completed"), task(3, 3, "Running"), task(4, 4, "Completed")];
    expect(tasksByStatus(tasks)).toEqual([
      { status: "Running", n: 1 },
      { status: "Completed", n: 3 },
    ]);
    expect(tasksByStatus([])).toEqual([]);
  });
});

describe("payment channels", () => {
  it("shows deposit, spent and remaining as integers from the API's decimal strings", () => {
    const [line] = channelLines([channel(1, { deposit: "1000000000000000000", spent: "250000000000000000" })], 1_000);
    expect(line.deposit).toBe(1_000_000_000_000_000_000n);
    expect(line.spent).toBe(250_000_000_000_000_000n);
    expect(line.remaining).toBe(750_000_000_000_000_000n);
    expect(line.state).toBe("Open");
  });

  it("never shows a negative remainder", () => {
    expect(channelLines([channel(1, { deposit: "10", spent: "12" })], 0)[0].remaining).toBe(0n);
  });

  it("calls an open channel past its expiry expired, and keeps a settled one's state", () => {
    const lines = channelLines([channel(1, { expiry: 500 }), channel(2, { expiry: 500, state: "Closed" }), channel(3, { expiry: 5_000 })], 1_000);
    expect(lines.map((l) => l.state)).toEqual(["Expired", "Closed", "Open"]);
  });

  it("keeps the API's order (the latest opened first)", () => {
    const lines = channelLines([channel(9, {}), channel(2, {}), channel(5, {})], 0);
    expect(lines.map((l) => Number(BigInt(l.channel.id)))).toEqual([9, 2, 5]);
  });

  it("sums what the open channels can still pay per token, leaving expired and closed ones out", () => {
    const lines = channelLines(
      [
        channel(1, { deposit: "100", spent: "40" }),
        channel(2, { deposit: "70", spent: "0", token: AMT }),
        channel(3, { deposit: "50", spent: "5" }),
        channel(4, { deposit: "900", state: "Reclaimed" }),
        channel(5, { deposit: "800", expiry: 10 }),
      ],
      1_000,
    );
    expect(openRemaining(lines)).toEqual([
      { token: ETH, amount: 105n },
      { token: AMT, amount: 70n },
    ]);
  });
});

describe("data orders", () => {
  it("merges orders bought and sold, once each, the latest opened first", () => {
    const bought = [order(1, {}), order(4, {})];
    const sold = [order(3, { buyer: OTHER, seller: ME }), order(4, {})];
    const lines = orderLines(bought, sold);
    expect(lines.map((l) => [Number(BigInt(l.order.id)), l.roles])).toEqual([
      [4, ["buyer", "seller"]],
      [3, ["seller"]],
      [1, ["buyer"]],
    ]);
  });

  it("sums what was paid, earned and is still in escrow, per token", () => {
    const lines = orderLines(
      [
        order(1, { state: "Paid", paidToSeller: "300", refundedToBuyer: "200" }),
        order(2, { state: "Open", price: "700" }),
        order(3, { state: "Ending", price: "5", token: ETH }),
        order(4, { state: "Expired", paidToSeller: "0", refundedToBuyer: "500" }),
      ],
      [order(5, { buyer: OTHER, seller: ME, state: "Settled", paidToSeller: "450" }), order(6, { buyer: OTHER, seller: ME, state: "Open" })],
    );
    const totals = orderTotals(lines);
    expect(totals.paid).toEqual([{ token: AMT, amount: 300n }]);
    expect(totals.earned).toEqual([{ token: AMT, amount: 450n }]);
    // Tokens in the order the newest orders name them.
    expect(totals.escrowed).toEqual([
      { token: ETH, amount: 5n },
      { token: AMT, amount: 700n },
    ]);
  });

  it("says how much of an order arrived in whole percent", () => {
    expect(receivedPercent({ received: 1024, totalBytes: 4096 })).toBe(25);
    expect(receivedPercent({ received: 4095, totalBytes: 4096 })).toBe(99);
    expect(receivedPercent({ received: 0, totalBytes: 0 })).toBe(0);
  });
});

describe("totalsByToken", () => {
  it("adds amounts of one token whatever the address's case, beyond 2^53", () => {
    const big = 2n ** 70n;
    expect(totalsByToken([
      { token: AMT.toUpperCase().replace("0X", "0x"), amount: big },
      { token: AMT, amount: 1n },
    ])).toEqual([{ token: AMT, amount: big + 1n }]);
  });
});
