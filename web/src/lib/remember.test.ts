import { describe, expect, it } from "vitest";
import type { DevAccount } from "./api";
import { restoreWallet } from "./remember";

const accounts: DevAccount[] = [
  { index: 0, address: `0x${"01".repeat(20)}`, privateKey: `0x${"11".repeat(32)}`, role: "owner" },
  { index: 3, address: `0x${"03".repeat(20)}`, privateKey: `0x${"33".repeat(32)}`, role: "buyer" },
];

describe("restoring the wallet used last time", () => {
  it("reconnects an injected wallet silently", () => {
    expect(restoreWallet("injected", false, null)).toEqual({ do: "injected" });
  });
  it("waits for the dev accounts, then picks the remembered one", () => {
    expect(restoreWallet("dev:3", true, null)).toEqual({ do: "wait" });
    expect(restoreWallet("dev:3", true, accounts)).toEqual({ do: "dev", account: accounts[1] });
    expect(restoreWallet("dev:7", true, accounts)).toEqual({ do: "nothing" });
  });
  it("forgets a dev account off the embedded chain", () => {
    expect(restoreWallet("dev:3", false, accounts)).toEqual({ do: "forget" });
  });
  it("does nothing without a remembered choice", () => {
    expect(restoreWallet(null, true, accounts)).toEqual({ do: "nothing" });
    expect(restoreWallet("something else", true, accounts)).toEqual({ do: "nothing" });
  });
});
