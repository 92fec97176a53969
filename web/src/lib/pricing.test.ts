import { describe, expect, it } from "vitest";
import { estimatePromptTokens, modelPrices, priceLabels, replyCost, tokensAffordable } from "./pricing";

const prices = { promptPer1k: 1000n, completionPer1k: 3000n };

describe("replyCost", () => {
  it("is ceil((p·prompt + c·completion) / 1000)", () => {
    expect(replyCost(0, 0, prices)).toBe(0n);
    expect(replyCost(10, 0, prices)).toBe(10n);
    expect(replyCost(10, 1, prices)).toBe(13n);
    // 7·1 + 1·3 = 10 exactly at 1000 per 1k; with an odd price the rounding is up, once
    expect(replyCost(1, 1, { promptPer1k: 1n, completionPer1k: 1n })).toBe(1n);
    expect(replyCost(1000, 0, { promptPer1k: 1n, completionPer1k: 1n })).toBe(1n);
    expect(replyCost(1001, 0, { promptPer1k: 1n, completionPer1k: 1n })).toBe(2n);
  });
  it("never drifts: the sum of increments is the cost of the whole", () => {
    const odd = { promptPer1k: 7n, completionPer1k: 13n };
    let prev = replyCost(37, 0, odd);
    let sum = prev;
    for (let c = 1; c <= 500; c += 3) {
      const now = replyCost(37, c, odd);
      sum += now - prev;
      prev = now;
    }
    expect(sum).toBe(replyCost(37, 499, odd));
  });
  it("works with amounts past 2^53", () => {
    const big = { promptPer1k: 10n ** 18n, completionPer1k: 3n * 10n ** 18n };
    expect(replyCost(1, 1, big)).toBe(4n * 10n ** 15n);
  });
  it("refuses negative counts", () => {
    expect(() => replyCost(-1, 0, prices)).toThrow();
  });
});

describe("prices for people", () => {
  const model = { id: "m", contextTokens: 2048, pricing: { token: "0x0000000000000000000000000000000000000000" as const, promptPer1k: "1000000000000000", completionPer1k: "2500000000000000" } };
  it("reads the model's prices", () => {
    expect(modelPrices(model)).toEqual({ promptPer1k: 10n ** 15n, completionPer1k: 25n * 10n ** 14n });
  });
  it("formats them with the token's decimals", () => {
    expect(priceLabels(model, { symbol: "ETH", decimals: 18 })).toEqual({ prompt: "0.001 ETH", completion: "0.0025 ETH" });
    expect(priceLabels(model, undefined)).toBeNull();
  });
  it("counts the completion tokens a balance pays for", () => {
    expect(tokensAffordable(3000n, prices)).toBe(1000n);
    expect(tokensAffordable(2999n, prices)).toBe(999n);
    expect(tokensAffordable(0n, prices)).toBe(0n);
    expect(tokensAffordable(5n, { promptPer1k: 1n, completionPer1k: 0n })).toBeNull();
  });
  it("estimates a prompt's size", () => {
    expect(estimatePromptTokens([{ content: "12345678" }])).toBe(6);
  });
});
