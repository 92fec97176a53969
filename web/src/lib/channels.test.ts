import { decodeFunctionData, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { paymentChannelAbi } from "./abi";
import {
  amountInputText,
  canReclaim,
  channelBalances,
  extendCall,
  openCall,
  parseAmountInput,
  reclaimCall,
  topUpCall,
  topUpNeeded,
} from "./channels";

const CONTRACT: Hex = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";
const parties = {
  payee: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Hex,
  token: "0x0000000000000000000000000000000000000000" as Hex,
  signer: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" as Hex,
  salt: `0x${"01".repeat(32)}` as Hex,
};

describe("channel calls", () => {
  it("open with the session key as signer, paying ETH as value", () => {
    const call = openCall(CONTRACT, parties, 5n, 1000n);
    expect(call.value).toBe(5n);
    const d = decodeFunctionData({ abi: paymentChannelAbi, data: call.data });
    expect(d.functionName).toBe("open");
    expect(d.args).toEqual([parties.payee, parties.token, 5n, 1000n, parties.salt, parties.signer].map((a) => (typeof a === "string" ? expect.stringMatching(new RegExp(a, "i")) : a)));
  });
  it("send no value for an ERC-20", () => {
    const erc20 = { ...parties, token: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex };
    expect(openCall(CONTRACT, erc20, 5n, 1000n).value).toBe(0n);
    expect(topUpCall(CONTRACT, erc20, 5n).value).toBe(0n);
    expect(topUpCall(CONTRACT, parties, 5n).value).toBe(5n);
  });
  it("name the channel by its parties for top-up, extend and reclaim", () => {
    expect(decodeFunctionData({ abi: paymentChannelAbi, data: topUpCall(CONTRACT, parties, 7n).data }).functionName).toBe("topUp");
    const ext = decodeFunctionData({ abi: paymentChannelAbi, data: extendCall(CONTRACT, parties, 99n).data });
    expect(ext.functionName).toBe("extend");
    expect(ext.args?.[4]).toBe(99n);
    expect(decodeFunctionData({ abi: paymentChannelAbi, data: reclaimCall(CONTRACT, parties).data }).functionName).toBe("reclaim");
  });
});

describe("balances", () => {
  it("remaining is what the deposit can still pay", () => {
    expect(channelBalances(1000n, 300n, 290n)).toEqual({ deposit: 1000n, accepted: 290n, billed: 300n, remaining: 700n, unpaid: 10n });
    expect(channelBalances(100n, 100n, 100n).remaining).toBe(0n);
  });
  it("a top-up covers what the node says is missing", () => {
    expect(topUpNeeded(1500n, 1000n)).toBe(500n);
    expect(topUpNeeded(900n, 1000n)).toBe(1n);
  });
  it("reclaim only after expiry", () => {
    expect(canReclaim({ state: "Open", expiry: 100 }, 99)).toBe(false);
    expect(canReclaim({ state: "Open", expiry: 100 }, 100)).toBe(true);
    expect(canReclaim({ state: "Expired", expiry: 100 }, 0)).toBe(true);
    expect(canReclaim({ state: "Closed", expiry: 100 }, 200)).toBe(false);
  });
});

describe("amounts typed by people", () => {
  it("parse with the token's decimals", () => {
    expect(parseAmountInput("1.5", 18)).toBe(15n * 10n ** 17n);
    expect(parseAmountInput("1,000", 0)).toBe(1000n);
    expect(parseAmountInput(".25", 2)).toBe(25n);
    expect(parseAmountInput("0", 18)).toBeNull();
    expect(parseAmountInput("1.234", 2)).toBeNull();
    expect(parseAmountInput("-1", 18)).toBeNull();
    expect(parseAmountInput("1e3", 18)).toBeNull();
    expect(parseAmountInput("", 18)).toBeNull();
  });
  it("print back", () => {
    expect(amountInputText(15n * 10n ** 17n, 18)).toBe("1.5");
    expect(amountInputText(1000n, 0)).toBe("1000");
  });
});
