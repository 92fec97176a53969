// Services as the page shows and buys them: name and price for people, and what a purchase takes
// as input. The service describes its input itself (`service.input` from the API); a node that
// does not send it yet gets the input the page used to assume for the service's kind.
import type { InputMode, Service, ServiceInput, ServiceOption } from "./api";
import { formatAmount } from "./format";
import { localized, type Lang, type MessageKey } from "./i18n";

/// Symbol and decimals of a token, read from its contract.
export interface TokenInfo {
  symbol: string;
  decimals: number;
}

/// Known tokens by lower-case address.
export type Tokens = Record<string, TokenInfo>;

/// A service's price as people read it, or `null` while its token's decimals are unknown.
export function servicePrice(service: Service, tokens: Tokens): string | null {
  const info = tokens[service.token.toLowerCase()];
  return info ? formatAmount(service.price, info.decimals, info.symbol) : null;
}

export function serviceName(service: Service, lang: Lang, fallback: string): string {
  return localized(service.metadata?.name, lang) ?? fallback;
}

/// The list with `svc` in place of the service with its id (or added), ordered by id.
export function upsertService(list: readonly Service[] | null, svc: Service): Service[] {
  const next = [...(list ?? [])];
  const i = next.findIndex((s) => s.id === svc.id);
  if (i >= 0) next[i] = svc;
  else next.push(svc);
  return next.sort((a, b) => a.id - b.id);
}

/// What the page assumed before services described their input (kept for nodes that don't yet).
function legacyInput(kind: string | undefined): ServiceInput {
  if (kind === "ai-inference") return { modes: ["draw", "file"], accept: "image/png", options: [] };
  if (kind === "video-transcode") return { modes: ["file"], accept: "video/*", options: [] };
  return { modes: ["text", "file"], accept: null, options: [] };
}

const MODES: readonly InputMode[] = ["text", "file", "draw"];

/// The input a purchase of `service` takes: the service's own description, cleaned of anything the
/// page cannot offer (unknown modes, options without choices), else the legacy guess.
export function inputSpec(service: Service): ServiceInput {
  const given = service.input;
  if (!given) return legacyInput(service.metadata?.kind);
  const modes = given.modes.filter((m) => MODES.includes(m));
  const options = given.options.filter((o) => o.choices.length > 0 && o.name !== INPUT_FIELD);
  return { modes: modes.length ? modes : ["text"], accept: given.accept || null, options };
}

/// The choice an option starts at: its default when that is one of its choices, else the first.
export function defaultChoice(option: ServiceOption): string {
  return option.choices.includes(option.default) ? option.default : option.choices[0];
}

/// Every option at its default.
export function defaultChoices(spec: ServiceInput): Record<string, string> {
  return Object.fromEntries(spec.options.map((o) => [o.name, defaultChoice(o)]));
}

/// The field that carries the text, CID or digit when a purchase's input is a JSON object.
export const INPUT_FIELD = "input";

/// The task input sent on chain: `value` as it is for a service without options, else the JSON
/// object `{"input": value, <option>: <choice>, …}` with every option set to an allowed choice.
export function encodeTaskInput(spec: ServiceInput, value: string, choices: Record<string, string>): string {
  if (spec.options.length === 0) return value;
  const obj: Record<string, string> = { [INPUT_FIELD]: value };
  for (const option of spec.options) {
    const chosen = choices[option.name];
    obj[option.name] = chosen !== undefined && option.choices.includes(chosen) ? chosen : defaultChoice(option);
  }
  return JSON.stringify(obj);
}

/// A task input made by `encodeTaskInput` with options, read back for display; `null` otherwise.
export function decodeTaskInput(input: string): { value: string; options: [string, string][] } | null {
  let v: unknown;
  try {
    v = JSON.parse(input);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const obj = v as Record<string, unknown>;
  const value = obj[INPUT_FIELD];
  if (typeof value !== "string") return null;
  const options = Object.entries(obj).filter(
    (e): e is [string, string] => e[0] !== INPUT_FIELD && typeof e[1] === "string",
  );
  return { value, options };
}

/// The label of the file field, from the kind of file it takes.
export function fileLabelKey(accept: string | null): MessageKey {
  if (accept?.startsWith("video/")) return "buy.fileLabelVideo";
  if (accept?.startsWith("image/")) return "buy.fileLabelImage";
  return "buy.fileLabel";
}
