import { decodeFunctionData, encodeAbiParameters, encodeEventTopics, type Hex, type TransactionReceipt } from "viem";
import { describe, expect, it } from "vitest";
import { computeMarketAbi } from "./abi";
import { listServiceCall, MAX_RUN_TIME, parseListing, readTerms, runningServices, serviceIdFromReceipt } from "./flListing";

const MARKET = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex;
const INVESTOR = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266" as Hex;
const OTHER = "0x976ea74026e726554db657fa54763abd0c3a0aa9" as Hex;
const ETH = "0x0000000000000000000000000000000000000000" as Hex;
const URI = 'data:application/json,{"kind":"ai-inference","runtime":{"type":"local","app":"fl:4"}}';

const answer = {
  taskId: 4,
  computeMarket: MARKET.toUpperCase().replace("0X", "0x"),
  investor: INVESTOR,
  token: ETH,
  metadata: { kind: "ai-inference" },
  metadataUri: URI,
  input: { modes: ["draw"], accept: null, options: [] },
  image: { dataset: "digits", side: 8, maxValue: 16 },
  listed: [
    { id: 2, provider: INVESTOR, runs: true, active: true },
    { id: 3, provider: OTHER, runs: false, active: true },
    { id: 5, provider: INVESTOR, runs: true, active: false },
    { id: 6, provider: INVESTOR, runs: true, active: true },
  ],
};

describe("a model's listing", () => {
  it("reads the node's answer and keeps the services the node runs, newest first", () => {
    const l = parseListing(answer);
    expect(l.computeMarket).toBe(MARKET);
    expect(runningServices(l).map((s) => s.id)).toEqual([6, 2]);
    expect(() => parseListing({ ...answer, investor: "nobody" })).toThrow(/investor/);
    expect(() => parseListing({ error: { code: "not_finished" } })).toThrow(/not a model listing/);
  });

  it("checks the typed terms before anything is sent", () => {
    expect(readTerms("0.01", "300", 18)).toEqual({ ok: true, price: 10n ** 16n, maxRunTime: 300 });
    expect(readTerms("0", "300", 18)).toEqual({ ok: false, problem: "price" });
    expect(readTerms("1.5", "300", 0)).toEqual({ ok: false, problem: "price" });
    expect(readTerms("100000000000", "300", 18)).toEqual({ ok: false, problem: "price" });
    expect(readTerms("1", "0", 18)).toEqual({ ok: false, problem: "runTime" });
    expect(readTerms("1", "2.5", 18)).toEqual({ ok: false, problem: "runTime" });
    expect(readTerms("1", String(MAX_RUN_TIME + 1), 18)).toEqual({ ok: false, problem: "runTime" });
  });

  it("sends listService with the node's metadata URI and reads the new service's id", () => {
    const l = parseListing(answer);
    const call = listServiceCall(l, 7n, 60);
    expect(call.to).toBe(MARKET);
    const decoded = decodeFunctionData({ abi: computeMarketAbi, data: call.data });
    expect(decoded.functionName).toBe("listService");
    expect(decoded.args).toEqual([ETH, 7n, 60n, URI]);

    const receipt = {
      transactionHash: `0x${"00".repeat(32)}`,
      logs: [
        {
          address: MARKET,
          topics: encodeEventTopics({ abi: computeMarketAbi, eventName: "ServiceListed", args: { serviceId: 9n, provider: INVESTOR } } as never),
          data: encodeAbiParameters([{ type: "address" }, { type: "uint256" }, { type: "uint64" }, { type: "string" }], [ETH, 7n, 60n, URI]),
        },
      ],
    } as unknown as TransactionReceipt;
    expect(serviceIdFromReceipt(MARKET, receipt)).toBe(9);
    expect(() => serviceIdFromReceipt(OTHER, receipt)).toThrow(/ServiceListed/);
  });
});
