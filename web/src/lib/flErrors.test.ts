import { encodeErrorResult, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { federatedMarketAbi } from "./abi";
import { ApiError } from "./api";
import { decodeFlRevert, EXPLAINED, flRevertText, revertDataOf, revertMessage } from "./flErrors";
import { MESSAGES, translate, type MessageKey, type Vars } from "./i18n";

const A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const en = (key: MessageKey, vars?: Vars) => translate(MESSAGES, "en", key, vars);
const zh = (key: MessageKey, vars?: Vars) => translate(MESSAGES, "zh-CN", key, vars);
/// The node's answer to a simulation that FederatedMarket refused.
const refused = (data: Hex) => new ApiError(422, "reverted", `call reverted with unknown data ${data}`);

describe("FederatedMarket refusals", () => {
  it("finds the revert data in the node's sentence", () => {
    expect(revertDataOf(refused("0x12345678aa"))).toBe("0x12345678aa");
    expect(revertDataOf(new ApiError(422, "InsufficientPayment", "payment of 1 wei does not match"))).toBeNull();
    expect(revertDataOf("nothing")).toBeNull();
  });

  it("decode an error with its figures by name", () => {
    const data = encodeErrorResult({ abi: federatedMarketAbi, errorName: "InvalidBlockCount", args: [3n, 5, 18, 20] });
    expect(decodeFlRevert(data)).toEqual({ name: "InvalidBlockCount", args: { taskId: 3n, count: 5, sold: 18, total: 20 } });
    expect(decodeFlRevert("0xdeadbeef")).toBeNull();
  });

  it("say it in a sentence, the state by its name, in both languages", () => {
    const wrong = refused(encodeErrorResult({ abi: federatedMarketAbi, errorName: "WrongState", args: [3n, 3] }));
    expect(flRevertText(wrong, en)).toBe("The contract would refuse this: task 3 cannot do that while it is Finished");
    expect(flRevertText(wrong, zh)).toContain("已完成");
    const count = refused(encodeErrorResult({ abi: federatedMarketAbi, errorName: "InvalidBlockCount", args: [3n, 5, 18, 20] }));
    expect(flRevertText(count, en)).toContain("5 blocks cannot be bought: 18 of 20 are sold");
    expect(flRevertText(new Error("user rejected"), en)).toBeNull();
  });

  it("name an error without a sentence of its own, with its figures", () => {
    const data = encodeErrorResult({ abi: federatedMarketAbi, errorName: "InsufficientShares", args: [4n, A, 10n, 11n] });
    const r = decodeFlRevert(data);
    expect(r && revertMessage(r)).toEqual({ key: "fl.error.generic", vars: { name: "InsufficientShares", figures: `taskId 4, account ${A}, balance 10, amount 11` } });
  });

  it("have a sentence for every explained error, naming only its own arguments", () => {
    for (const name of EXPLAINED) {
      const inputs = federatedMarketAbi.find((x) => x.type === "error" && x.name === name)?.inputs;
      expect(inputs, name).toBeDefined();
      const names = new Set([...(inputs ?? []).map((i) => i.name), "stateName"]);
      for (const lang of ["en", "zh-CN"] as const) {
        const text = MESSAGES[lang][`fl.error.${name}`];
        for (const [, v] of text.matchAll(/\{(\w+)\}/g)) expect(names.has(v), `${lang} fl.error.${name} {${v}}`).toBe(true);
      }
    }
  });
});
