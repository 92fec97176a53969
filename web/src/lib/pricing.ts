// What a reply costs (docs/assistant-payments.md, "What a reply costs"), in integers end to end:
// cost(p, c) = ceil((p × promptPer1k + c × completionPer1k) / 1000), in the channel token's
// smallest unit. Decimals appear only when a person reads an amount (format.ts).
import type { AssistantModel } from "./assistant";
import { formatAmount, parseUnitsString } from "./format";
import type { TokenInfo } from "./services";

export interface Prices {
  promptPer1k: bigint;
  completionPer1k: bigint;
}

export function modelPrices(model: AssistantModel): Prices {
  return {
    promptPer1k: parseUnitsString(model.pricing.promptPer1k),
    completionPer1k: parseUnitsString(model.pricing.completionPer1k),
  };
}

/// The charge for `promptTokens` prompt and `completionTokens` completion tokens, rounded up once.
export function replyCost(promptTokens: number | bigint, completionTokens: number | bigint, prices: Prices): bigint {
  const p = BigInt(promptTokens);
  const c = BigInt(completionTokens);
  if (p < 0n || c < 0n) throw new Error("token counts are never negative");
  const total = p * prices.promptPer1k + c * prices.completionPer1k;
  return (total + 999n) / 1000n;
}

/// How many completion tokens `remaining` still pays for at `prices` (prompt excluded); `null` when
/// completions are free.
export function tokensAffordable(remaining: bigint, prices: Prices): bigint | null {
  if (prices.completionPer1k === 0n) return null;
  if (remaining <= 0n) return 0n;
  return (remaining * 1000n) / prices.completionPer1k;
}

/// The two prices as a person reads them: `0.001 AMT / 1,000 prompt tokens`. `null` while the
/// token's decimals are unknown.
export function priceLabels(model: AssistantModel, token: TokenInfo | undefined): { prompt: string; completion: string } | null {
  if (!token) return null;
  return {
    prompt: formatAmount(model.pricing.promptPer1k, token.decimals, token.symbol, token.decimals),
    completion: formatAmount(model.pricing.completionPer1k, token.decimals, token.symbol, token.decimals),
  };
}

/// The most a reply of `maxTokens` with a prompt of about `promptTokens` can cost.
export function maxReplyCost(promptTokens: number, maxTokens: number, prices: Prices): bigint {
  return replyCost(promptTokens, maxTokens, prices);
}

/// A rough prompt size before the node counts it (about four characters a token, plus the chat
/// template's few per message), for the estimate shown before sending. The node's count is the one
/// charged; the page checks every chunk against it.
export function estimatePromptTokens(messages: readonly { content: string }[]): number {
  return messages.reduce((n, m) => n + Math.ceil(m.content.length / 4) + 4, 0);
}
