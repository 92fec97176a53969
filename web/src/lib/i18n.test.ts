import { describe, expect, it } from "vitest";
import en from "../messages/en.json";
import zhCN from "../messages/zh-CN.json";
import { interpolate, isMessageKey, localized, MESSAGES, pickLanguage, translate, type MessageKey } from "./i18n";
import { statusKey } from "./status";

describe("message files", () => {
  it("have the same keys in both languages", () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
  });
  it("use the same placeholders in both languages", () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, text] of Object.entries(en)) {
      expect(names((zhCN as Record<string, string>)[key]), key).toEqual(names(text));
    }
  });
  it("read like the seed's demo in Chinese", () => {
    const zh = (k: string, v?: Record<string, string | number>) => translate(MESSAGES, "zh-CN", k, v);
    expect(zh(statusKey("Created"))).toBe("已创建（等待计算）");
    expect(zh(statusKey("Running"))).toBe("计算中");
    expect(zh(statusKey("Completed"))).toBe("已完成 ✅");
    expect(zh(statusKey("Refunded"))).toBe("已退款");
    expect(zh("market.buy")).toBe("购买算力");
    expect(zh("step.sent.active")).toBe("交易已发送，等待区块确认…");
    expect(`${zh("buy.created")} ${zh("buy.createdId")}#3 ${zh("buy.createdStatus")}${zh(statusKey("Created"))}`).toBe(
      "任务已创建 任务ID：#3 状态：已创建（等待计算）",
    );
    expect(translate(MESSAGES, "en", "step.sent.active")).toBe("Transaction sent, waiting for confirmation…");
  });
});

describe("message keys", () => {
  const t = (key: MessageKey) => translate(MESSAGES, "en", key);
  it("are typed from en.json: tsc rejects a key the file lacks", () => {
    expect(t("market.buy")).toBe("Buy compute");
    // @ts-expect-error: not a key of en.json (shown as itself at run time)
    expect(t("market.bye")).toBe("market.bye");
  });
  it("can be checked at run time for keys that come from data", () => {
    expect(isMessageKey("role.buyer")).toBe(true);
    expect(isMessageKey("role.stranger")).toBe(false);
    expect(isMessageKey("toString")).toBe(false);
  });
});

describe("translate", () => {
  const messages = { en: { a: "A {x}", onlyEn: "english" }, "zh-CN": { a: "甲 {x}" } };
  it("interpolates variables", () => {
    expect(translate(messages, "zh-CN", "a", { x: 1 })).toBe("甲 1");
    expect(interpolate("{a} and {b}", { a: "x" })).toBe("x and {b}");
  });
  it("falls back to English, then to the key", () => {
    expect(translate(messages, "zh-CN", "onlyEn")).toBe("english");
    expect(translate(messages, "zh-CN", "nowhere")).toBe("nowhere");
  });
});

describe("pickLanguage", () => {
  it("prefers a remembered choice", () => {
    expect(pickLanguage("en", ["zh-CN"])).toBe("en");
    expect(pickLanguage("zh-CN", ["en-US"])).toBe("zh-CN");
  });
  it("reads the browser's languages, any zh as Chinese", () => {
    expect(pickLanguage(null, ["zh-TW", "en"])).toBe("zh-CN");
    expect(pickLanguage(null, ["fr-FR", "en-GB"])).toBe("en");
    expect(pickLanguage(null, ["fr-FR"])).toBe("en");
    expect(pickLanguage("klingon", ["zh"])).toBe("zh-CN");
  });
});

describe("localized metadata", () => {
  it("picks the language, then English, then anything", () => {
    expect(localized({ en: "AI inference", "zh-CN": "AI 推理算力" }, "zh-CN")).toBe("AI 推理算力");
    expect(localized({ en: "AI inference" }, "zh-CN")).toBe("AI inference");
    expect(localized({ fr: "Inférence" }, "en")).toBe("Inférence");
    expect(localized(undefined, "en")).toBeUndefined();
  });
});
