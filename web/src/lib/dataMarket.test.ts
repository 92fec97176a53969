import { decodeFunctionData, keccak256, toBytes, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { dataMarketAbi } from "./abi";
import {
  averageScore,
  canRate,
  canSettle,
  formatBytes,
  formatRate,
  isFinished,
  loadOrder,
  openOrderCall,
  randomNonce,
  rateCall,
  rateOf,
  recordAck,
  saveOrder,
  settleCall,
  type LocalOrder,
} from "./dataMarket";
import { makeOrder, type Item } from "./datastream";
import { memoryStore } from "./sessionKeys";

const MARKET = { chainId: 31337, address: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex };
const BUYER = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" as Hex;
const SELLER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Hex;
const ACK = "0x90f79bf6eb2c4f870365e785982e1f101e93b906" as Hex;
const TOKEN = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as Hex;

const item = (token: Hex): Item => ({ name: "a.bin", size: 1000, price: 123n, token, chunkSize: 100, sha256: `0x${"11".repeat(32)}` });

describe("DataMarket calls", () => {
  it("openOrder carries the order's terms, Escrow, and the price as value for ETH only", () => {
    for (const token of ["0x0000000000000000000000000000000000000000", TOKEN] as Hex[]) {
      const o = makeOrder(MARKET, { buyer: BUYER, seller: SELLER, ackSigner: ACK }, item(token), 1_700_000_000, 9n, 1_700_003_600);
      const call = openOrderCall(MARKET.address, o);
      const d = decodeFunctionData({ abi: dataMarketAbi, data: call.data });
      expect(d.functionName).toBe("openOrder");
      const args = (d.args ?? []).map((a) => (typeof a === "string" ? a.toLowerCase() : a));
      expect(args).toEqual([SELLER, token, 123n, 1000n, 1_700_003_600n, 1_700_000_000n, 9n, ACK, 0]);
      expect(call.value).toBe(token === TOKEN ? 0n : 123n);
      expect(call.to).toBe(MARKET.address);
    }
  });

  it("settle and rate (the comment's keccak256)", () => {
    const id = `0x${"22".repeat(32)}` as Hex;
    expect(decodeFunctionData({ abi: dataMarketAbi, data: settleCall(MARKET.address, id).data }).args).toEqual([id]);
    expect(decodeFunctionData({ abi: dataMarketAbi, data: rateCall(MARKET.address, id, 4, "good").data }).args).toEqual([id, 4, keccak256(toBytes("good"))]);
  });

  it("random nonces differ and fit 256 bits", () => {
    const a = randomNonce();
    expect(a).not.toBe(randomNonce());
    expect(a < 2n ** 256n && a >= 0n).toBe(true);
  });
});

describe("order states", () => {
  it("finished, settle due, rate allowed", () => {
    expect(isFinished({ state: "Settled" })).toBe(true);
    expect(isFinished({ state: "Ending" })).toBe(false);
    expect(canSettle({ state: "Ending", settleAt: 100 }, 99)).toBe(false);
    expect(canSettle({ state: "Ending", settleAt: 100 }, 100)).toBe(true);
    expect(canSettle({ state: "Open", settleAt: null }, 1e12)).toBe(false);
    expect(canRate({ state: "Expired" }, false)).toBe(true);
    expect(canRate({ state: "Settled" }, true)).toBe(false);
    expect(canRate({ state: "Open" }, false)).toBe(false);
  });

  it("the mean score from integers", () => {
    expect(averageScore({ count: 0, scoreSum: 0 })).toBeNull();
    expect(averageScore({ count: 3, scoreSum: 13 })).toBe("4.3");
    expect(averageScore({ count: 2, scoreSum: 10 })).toBe("5.0");
  });

  it("rates and sizes for people", () => {
    expect(rateOf([{ t: 0, bytes: 0 }, { t: 500, bytes: 1_000_000 }])).toBe(2_000_000);
    expect(rateOf([{ t: 0, bytes: 0 }])).toBe(0);
    expect(formatRate(2_500_000)).toBe("2.5 MB/s");
    expect(formatBytes(17)).toBe("17 B");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MiB");
  });
});

describe("what the browser keeps per order", () => {
  it("round-trips the terms (bigints included) and only ever raises the last ACK", () => {
    const store = memoryStore();
    const order = makeOrder(MARKET, { buyer: BUYER, seller: SELLER, ackSigner: ACK }, item(TOKEN), 1, 2n ** 200n, 3600);
    const local: LocalOrder = {
      chainId: 31337,
      market: MARKET.address,
      endpoint: "127.0.0.1:1",
      sellerKey: SELLER,
      sessionKey: `0x${"33".repeat(32)}`,
      order,
      escrowTx: `0x${"44".repeat(32)}`,
      lastAck: null,
      rating: null,
      ratedOnChain: false,
    };
    saveOrder(store, local);
    expect(loadOrder(store, 31337, order.orderId.toUpperCase())).toEqual(local);
    const sig = `0x${"55".repeat(65)}` as Hex;
    expect(recordAck(store, 31337, { orderId: order.orderId, received: 500, signature: sig })?.lastAck?.received).toBe(500);
    expect(recordAck(store, 31337, { orderId: order.orderId, received: 400, signature: sig })?.lastAck?.received).toBe(500);
    expect(loadOrder(store, 31337, order.orderId)?.lastAck?.received).toBe(500);
    expect(recordAck(store, 31337, { orderId: `0x${"66".repeat(32)}`, received: 1, signature: sig })).toBeNull();
    store.set(`agora.data.order.31337.${order.orderId}`, "{broken");
    expect(loadOrder(store, 31337, order.orderId)).toBeNull();
  });
});
