// Strings live in message files (src/messages/*.json), one flat key → text map per language.
// `{name}` in a text is replaced by `vars.name`. A key missing from a language falls back to
// English, and a key missing everywhere shows as itself (so a gap is visible, not blank).
import en from "../messages/en.json";
import zhCN from "../messages/zh-CN.json";

export type Lang = "en" | "zh-CN";
/// Every key of the English file; `t()` accepts nothing else.
export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;

export const LANGS: readonly Lang[] = ["zh-CN", "en"];
// Typed as `Messages`, the Chinese file fails to compile when it lacks an English key (the unit
// test checks the other direction: no key that English lacks).
export const MESSAGES: Record<Lang, Messages> = { en, "zh-CN": zhCN };

/// A key known to the message files (for keys that come from outside, like a dev account's role).
export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}
export const STORAGE_KEY = "agora.lang";

export type Vars = Record<string, string | number>;

/// `text` with every `{name}` replaced by `vars.name` (unknown names are left as they are).
export function interpolate(text: string, vars?: Vars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function translate(
  messages: Record<Lang, Partial<Record<string, string>>>,
  lang: Lang,
  key: string,
  vars?: Vars,
): string {
  const text = messages[lang]?.[key] ?? messages.en?.[key] ?? key;
  return interpolate(text, vars);
}

/// The language for a browser: a remembered choice wins, then the first of `navigator.languages`
/// we have (any `zh*` reads Chinese), else English.
export function pickLanguage(stored: string | null | undefined, preferred: readonly string[]): Lang {
  if (stored === "en" || stored === "zh-CN") return stored;
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

/// A localized field of service metadata (`{en, "zh-CN"}`), falling back to English, then to any
/// language present.
export function localized(text: Record<string, string | undefined> | undefined | null, lang: Lang): string | undefined {
  if (!text) return undefined;
  return text[lang] ?? text.en ?? Object.values(text).find((v): v is string => typeof v === "string");
}
