import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  autopayOn,
  defaultChannel,
  freshSessionKey,
  highestSigned,
  highestVoucher,
  loadChannel,
  markDead,
  memoryStore,
  recordVoucher,
  saveChannel,
  setAutopay,
  setDefaultChannel,
  type LocalChannel,
} from "./sessionKeys";

const ID = `0x${"cd".repeat(32)}` as const;

function channel(): LocalChannel {
  const k = freshSessionKey();
  return {
    id: ID,
    chainId: 31337,
    payer: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    payee: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    token: "0x0000000000000000000000000000000000000000",
    ...k,
    vouchers: [],
    dead: false,
  };
}

describe("session keys", () => {
  it("are fresh each time and name their signer", () => {
    const a = freshSessionKey();
    const b = freshSessionKey();
    expect(a.sessionKey).not.toBe(b.sessionKey);
    expect(a.salt).not.toBe(b.salt);
    expect(privateKeyToAccount(a.sessionKey).address).toBe(a.signer);
  });
  it("are kept per channel with the vouchers signed", () => {
    const store = memoryStore();
    const ch = channel();
    saveChannel(store, ch);
    expect(loadChannel(store, 31337, ID.toUpperCase().replace("0X", "0x"))?.sessionKey).toBe(ch.sessionKey);
    expect(loadChannel(store, 1, ID)).toBeNull();
    recordVoucher(store, 31337, ID, { requestId: "r", seq: 1, amount: "50", signature: "0x01", at: 1 });
    recordVoucher(store, 31337, ID, { requestId: "r", seq: 2, amount: "70", signature: "0x02", at: 2 });
    const back = loadChannel(store, 31337, ID);
    expect(highestSigned(back)).toBe(70n);
    expect(highestVoucher(back)?.signature).toBe("0x02");
    expect(highestSigned(null)).toBe(0n);
    markDead(store, 31337, ID);
    expect(loadChannel(store, 31337, ID)?.dead).toBe(true);
  });
  it("remember the default channel and auto-pay", () => {
    const store = memoryStore();
    expect(autopayOn(store)).toBe(true);
    setAutopay(store, false);
    expect(autopayOn(store)).toBe(false);
    setDefaultChannel(store, 31337, "0xABC", ID);
    expect(defaultChannel(store, 31337, "0xabc")).toBe(ID);
    setDefaultChannel(store, 31337, "0xabc", null);
    expect(defaultChannel(store, 31337, "0xabc")).toBeNull();
  });
  it("ignore a damaged record", () => {
    const store = memoryStore();
    store.set(`agora.assistant.channel.31337.${ID}`, "{not json");
    expect(loadChannel(store, 31337, ID)).toBeNull();
  });
});
