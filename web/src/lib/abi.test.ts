import { decodeFunctionData, encodeFunctionData } from "viem";
import { describe, expect, it } from "vitest";
import { computeMarketAbi, federatedMarketAbi, marketTokenAbi } from "./abi";

describe("generated ABIs", () => {
  it("encode the market's calls from the artifacts", () => {
    const data = encodeFunctionData({ abi: computeMarketAbi, functionName: "claimRefund", args: [7n] });
    const decoded = decodeFunctionData({ abi: computeMarketAbi, data });
    expect(decoded.functionName).toBe("claimRefund");
    expect(decoded.args).toEqual([7n]);
  });
  it("include FederatedMarket's, typed like the others (the line below must fail to compile)", () => {
    const data = encodeFunctionData({ abi: federatedMarketAbi, functionName: "buyBlocks", args: [3n, 2] });
    expect(decodeFunctionData({ abi: federatedMarketAbi, data }).args).toEqual([3n, 2]);
    // @ts-expect-error: buyBlocks takes a uint32 count, a number, not a string
    expect(() => encodeFunctionData({ abi: federatedMarketAbi, functionName: "buyBlocks", args: [3n, "two"] })).toThrow();
  });
  it("are typed: tsc rejects an unknown function or a wrong argument (each line below must fail to compile)", () => {
    // @ts-expect-error: the token has no such function
    expect(() => encodeFunctionData({ abi: marketTokenAbi, functionName: "approveAll", args: [] })).toThrow();
    expect(() =>
      // @ts-expect-error: claimRefund takes a uint256, not a string
      encodeFunctionData({ abi: computeMarketAbi, functionName: "claimRefund", args: ["seven"] }),
    ).toThrow();
  });
});
