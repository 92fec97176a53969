import { describe, expect, it } from "vitest";
import { freshKey, nextVoucherAmount } from "./flVoucher";

describe("nextVoucherAmount", () => {
  it("asks for the billed total plus the fee", () => {
    expect(nextVoucherAmount(10n, 5n, 10n, 100n)).toEqual({ ok: true, amount: 15n });
    expect(nextVoucherAmount(0n, 5n, 0n, 5n)).toEqual({ ok: true, amount: 5n });
  });
  it("refuses to sign at or below what was signed before", () => {
    expect(nextVoucherAmount(0n, 5n, 5n, 100n)).toEqual({ ok: false, reason: "decreasing", amount: 5n, signed: 5n });
  });
  it("refuses an amount over the deposit", () => {
    expect(nextVoucherAmount(10n, 5n, 10n, 12n)).toEqual({ ok: false, reason: "deposit", amount: 15n, deposit: 12n });
  });
});

describe("freshKey", () => {
  it("is 32 hex characters, different each time", () => {
    const a = freshKey();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(freshKey()).not.toEqual(a);
  });
});
