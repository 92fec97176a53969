import { decodeFunctionData, encodeFunctionData } from "viem";
import { describe, expect, it } from "vitest";
import { computeMarketAbi, marketTokenAbi } from "./abi";

describe("generated ABIs", () => {
  it("encode the market's calls from the artifacts", () => {
    const data = encodeFunctionData({ abi: computeMarketAbi, functionName: "claimRefund", args: [7n] });
    const decoded = decodeFunctionData({ abi: computeMarketAbi, data });
    expect(decoded.functionName).toBe("claimRefund");
    expect(decoded.args).toEqual([7n]);
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
