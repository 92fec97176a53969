import { describe, expect, it } from "vitest";
import { formatAmount, formatTokenAmount, formatUnitsForDisplay, parseUnitsString, shortAddress, shortHash } from "./format";

describe("formatUnitsForDisplay", () => {
  it("shows the demo prices as the seed writes them", () => {
    expect(formatAmount("10000000000000000", 18, "ETH")).toBe("0.01 ETH");
    expect(formatAmount("20000000000000000", 18, "ETH")).toBe("0.02 ETH");
    expect(formatAmount("5000000000000000000", 18, "AMT")).toBe("5 AMT");
  });
  it("groups thousands and strips trailing zeros", () => {
    expect(formatUnitsForDisplay(1000n * 10n ** 18n, 18)).toBe("1,000");
    expect(formatUnitsForDisplay(1234567n * 10n ** 17n, 18)).toBe("123,456.7");
    expect(formatUnitsForDisplay(0n, 18)).toBe("0");
  });
  it("cuts, never rounds up, past maxFraction", () => {
    expect(formatUnitsForDisplay(1999999999999999999n, 18, 4)).toBe("1.9999");
    expect(formatUnitsForDisplay(9999_123456789012345678n, 18, 4)).toBe("9,999.1234");
  });
  it("never shows a non-zero amount as zero", () => {
    expect(formatUnitsForDisplay(1n, 18, 6)).toBe("<0.000001");
    expect(formatUnitsForDisplay(1n, 18, 0)).toBe("<1");
  });
  it("handles tokens with other decimals, and negatives", () => {
    expect(formatUnitsForDisplay(1_500_000n, 6)).toBe("1.5");
    expect(formatUnitsForDisplay(42n, 0)).toBe("42");
    expect(formatUnitsForDisplay(-15n, 1)).toBe("-1.5");
  });
  it("keeps amounts beyond 2^53 exact", () => {
    const big = 2n ** 200n;
    expect(formatUnitsForDisplay(big, 0, 0).replaceAll(",", "")).toBe(big.toString());
  });
  it("refuses what is not an integer amount", () => {
    expect(() => parseUnitsString("1.5")).toThrow(/not a decimal integer/);
    expect(() => parseUnitsString("-1")).toThrow();
    expect(() => parseUnitsString("")).toThrow();
    expect(() => formatUnitsForDisplay(1n, -1)).toThrow(/decimals/);
  });
});

describe("short forms", () => {
  it("shortens addresses as 0x1234…abcd", () => {
    expect(shortAddress("0x1234567890abcdef1234567890abcdef1234abcd")).toBe("0x1234…abcd");
    expect(shortAddress("not an address")).toBe("not an address");
  });
  it("shortens hashes", () => {
    expect(shortHash(`0x${"ab".repeat(32)}`)).toBe("0xababab…ababab");
  });
});

describe("formatTokenAmount", () => {
  it("shows an amount in its token's units, exactly, or nothing while the token is unknown", () => {
    expect(formatTokenAmount("1234500000000000", { symbol: "AMT", decimals: 18 })).toBe("0.0012345 AMT");
    expect(formatTokenAmount(1n, { symbol: "ETH", decimals: 18 })).toBe("0.000000000000000001 ETH");
    expect(formatTokenAmount("0", { symbol: "USDC", decimals: 6 })).toBe("0 USDC");
    expect(formatTokenAmount("5", undefined)).toBeNull();
  });
});
