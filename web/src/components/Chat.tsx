// The chat: the model and its prices (shown before anything is sent), the conversation with each
// reply rendered as markdown (lib/markdown.ts: the model's HTML stays text), its cost and how it
// was paid, Stop while it streams, Pay when auto-pay is off, and for every way a reply can stop,
// the sentence that says why and the way out.
import { useId, useMemo, useState, type FormEvent, type KeyboardEvent } from "react";
import type { Channel } from "../lib/api";
import type { AssistantModel } from "../lib/assistant";
import type { Reply, Turn } from "../lib/chat";
import { formatAmount } from "../lib/format";
import { renderMarkdown } from "../lib/markdown";
import { estimatePromptTokens, maxReplyCost, modelPrices, priceLabels, replyCost } from "../lib/pricing";
import type { TokenInfo } from "../lib/services";
import type { Refusal } from "../lib/voucher";
import { DEFAULT_MAX_TOKENS, type Assistant } from "../hooks/useAssistant";
import { useI18n } from "../i18n-context";

interface Props {
  models: AssistantModel[];
  model: AssistantModel | null;
  onModel(id: string): void;
  token: TokenInfo | undefined;
  channel: Channel | null;
  /// This browser holds the channel's session key.
  canSign: boolean;
  /// The channel was found closed on chain: never paid again.
  dead: boolean;
  billed: bigint | null;
  chat: Assistant;
  signedIn: boolean;
  onTopUp(minimum: bigint): void;
  onExtend(): void;
  onShowChannel(): void;
}

export function Chat(p: Props) {
  const { t } = useI18n();
  const modelId = useId();
  const maxId = useId();
  const promptId = useId();
  const [prompt, setPrompt] = useState("");
  const [maxTokens, setMaxTokens] = useState(DEFAULT_MAX_TOKENS);
  const { chat, model, token } = p;
  const amount = (v: bigint) => (token ? formatAmount(v, token.decimals, token.symbol, token.decimals) : v.toString());
  const labels = model ? priceLabels(model, token) : null;
  const tokenMismatch = !!(model && p.channel && model.pricing.token.toLowerCase() !== p.channel.token.toLowerCase());
  const estimate = useMemo(() => {
    if (!model) return null;
    const prior = chat.conv.turns.flatMap((turn) => [{ content: turn.prompt }, { content: turn.reply.text }]);
    return maxReplyCost(estimatePromptTokens([...prior, { content: prompt || " " }]), maxTokens, modelPrices(model));
  }, [model, chat.conv.turns, prompt, maxTokens]);

  const blocker = !p.signedIn
    ? t("assistant.needSignIn")
    : !p.channel
      ? t("assistant.needChannel")
      : p.dead
        ? t("assistant.err.channel_closed")
        : p.channel.state !== "Open"
        ? t("assistant.channelNotOpen", { state: t(`channel.state.${p.channel.state}`) })
        : !p.canSign
          ? t("assistant.noSessionKey")
          : tokenMismatch
            ? t("assistant.tokenMismatch")
            : null;
  const busy = chat.active !== null;
  const unpaid = chat.unpaid;
  const canSend = !blocker && !!model && !busy && !unpaid && prompt.trim().length > 0;

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!canSend || !model) return;
    chat.send(prompt.trim(), model, maxTokens);
    setPrompt("");
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit();
  };

  return (
    <section className="chat" aria-labelledby="chat-title">
      <h2 id="chat-title" className="sr-only">
        {t("assistant.chat")}
      </h2>
      <div className="chat-settings">
        <div className="field">
          <label htmlFor={modelId}>{t("assistant.model")}</label>
          <select id={modelId} value={model?.id ?? ""} onChange={(e) => p.onModel(e.target.value)} data-testid="model-select">
            {p.models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        </div>
        {model && (
          <dl className="card-facts" data-testid="model-prices">
            <div>
              <dt>{t("assistant.pricePrompt")}</dt>
              <dd>{labels?.prompt ?? model.pricing.promptPer1k}</dd>
            </div>
            <div>
              <dt>{t("assistant.priceCompletion")}</dt>
              <dd>{labels?.completion ?? model.pricing.completionPer1k}</dd>
            </div>
            <div>
              <dt>{t("assistant.context")}</dt>
              <dd>{t("assistant.tokensN", { n: model.contextTokens.toLocaleString() })}</dd>
            </div>
          </dl>
        )}
        <label className="toggle">
          <input type="checkbox" checked={chat.autopay} onChange={(e) => chat.setAutopay(e.target.checked)} data-testid="autopay" />
          <span>{t("assistant.autopay")}</span>
        </label>
        <p className="hint">{chat.autopay ? t("assistant.autopayOn") : t("assistant.autopayOff")}</p>
      </div>

      {chat.conv.turns.length > 0 && (
        <div className="wallet-actions">
          <button type="button" className="btn" disabled={busy} onClick={chat.clear} data-testid="chat-new">
            {t("assistant.newConversation")}
          </button>
          <span className="hint">{t("assistant.keptHint")}</span>
        </div>
      )}
      <ol className="turns" aria-live="polite" data-testid="turns">
        {chat.conv.turns.map((turn) => (
          <TurnView key={turn.reply.requestId} turn={turn} {...p} amount={amount} />
        ))}
      </ol>

      {chat.signError && (
        <p className="notice notice-error" role="alert">
          {chat.signError.kind === "noSessionKey" ? t("assistant.noSessionKey") : t("assistant.signFailed", { message: chat.signError.message })}
        </p>
      )}
      {blocker && (
        <div className="notice notice-warn" data-testid="chat-blocker">
          <p>{blocker}</p>
          {p.signedIn && (
            <button type="button" className="btn" onClick={p.onShowChannel}>
              {t("assistant.openChannelPanel")}
            </button>
          )}
        </div>
      )}
      {unpaid && !busy && <p className="notice notice-warn">{t("assistant.payFirst")}</p>}

      <form className="composer" onSubmit={submit}>
        <label htmlFor={promptId} className="sr-only">
          {t("assistant.message")}
        </label>
        <textarea
          id={promptId}
          rows={3}
          value={prompt}
          placeholder={t("assistant.placeholder")}
          onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={onKey}
          data-testid="chat-input"
        />
        <div className="composer-row">
          <label htmlFor={maxId} className="composer-max">
            {t("assistant.maxTokens")}
            <input
              id={maxId}
              type="number"
              min={1}
              max={model?.contextTokens ?? 4096}
              value={maxTokens}
              onChange={(e) => setMaxTokens(Math.max(1, Math.min(model?.contextTokens ?? 4096, Number(e.target.value) || 1)))}
            />
          </label>
          {estimate !== null && <span className="muted" data-testid="chat-estimate">{t("assistant.atMost", { amount: amount(estimate) })}</span>}
          {busy ? (
            <button type="button" className="btn" onClick={() => chat.active && chat.stop(chat.active)} data-testid="chat-stop">
              {t("assistant.stop")}
            </button>
          ) : (
            <button type="submit" className="btn btn-primary" disabled={!canSend} data-testid="chat-send">
              {t("assistant.send")}
            </button>
          )}
        </div>
        <p className="hint">{t("assistant.sendHint")}</p>
      </form>
    </section>
  );
}

interface TurnProps extends Props {
  turn: Turn;
  amount(v: bigint): string;
}

function TurnView({ turn, amount, chat, ...p }: TurnProps) {
  const { t } = useI18n();
  const r = turn.reply;
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const running = r.phase === "starting" || r.phase === "streaming";
  const model = p.models.find((m) => m.id === r.model) ?? p.model;
  return (
    <li className="turn" data-testid="turn">
      <div className="bubble bubble-user">
        <span className="sr-only">{t("assistant.you")}</span>
        <p>{turn.prompt}</p>
      </div>
      <div className="bubble bubble-assistant" aria-busy={running} data-testid="reply" data-phase={r.phase}>
        <span className="sr-only">{t("assistant.assistant")}</span>
        <div className="md">{r.text ? renderMarkdown(r.text) : running ? <p className="muted">{t("assistant.thinking")}</p> : null}</div>
        <p className="reply-meta" data-testid="reply-cost">
          {replyStatus(r, t)}
          {r.promptTokens !== null && (
            <>
              {" · "}
              {t("assistant.replyTokens", { p: r.promptTokens, c: r.completionTokens })}
              {" · "}
              {t("assistant.replyCost", { amount: amount(r.promptTokens !== null ? replyCost(r.promptTokens, r.completionTokens, r.prices) : r.cost) })}
            </>
          )}
        </p>
        {r.pending && r.phase !== "refused" && !chat.autopay && (
          <div className="pay-row">
            <span>{t("assistant.payPending", { seq: r.pending.seq, amount: amount(r.pending.amount) })}</span>
            <button type="button" className="btn btn-primary" onClick={() => chat.pay(r)} data-testid="pay">
              {t("assistant.pay")}
            </button>
          </div>
        )}
        {r.refusal && (
          <p className="notice notice-error" role="alert" data-testid="refusal">
            {refusalText(r.refusal, amount, t)}
          </p>
        )}
        {r.error && (
          <div className="notice notice-error" role="alert" data-testid="reply-error" data-code={r.error.code}>
            <p>{errorSentence(r, amount, t)}</p>
            <p className="muted">{r.error.message}</p>
            <div className="wallet-actions">
              {r.error.code === "deposit_spent" && r.error.owed !== null && (
                <button type="button" className="btn btn-primary" onClick={() => p.onTopUp(topUpMinimum(r))}>
                  {t("assistant.action.topUp")}
                </button>
              )}
              {r.error.code === "expiring" && (
                <button type="button" className="btn btn-primary" onClick={p.onExtend}>
                  {t("assistant.action.extend")}
                </button>
              )}
              {r.error.code === "owed" && r.error.owed !== null && model && (
                <button
                  type="button"
                  className="btn btn-primary"
                  onClick={async () => setRefusal(await chat.payOwedAndRetry(r, model, r.error!.owed!, p.billed))}
                  data-testid="pay-owed"
                >
                  {t("assistant.action.payOwed", { amount: amount(r.error.owed) })}
                </button>
              )}
              {r.error.code === "payment_timeout" && r.pending && (
                <button type="button" className="btn btn-primary" onClick={() => chat.pay(r)}>
                  {t("assistant.action.payChunk", { amount: amount(r.pending.amount) })}
                </button>
              )}
              {retryable(r.error.code) && model && !chat.active && (
                <button type="button" className="btn" onClick={() => chat.retry(r, model)}>
                  {t("assistant.action.retry")}
                </button>
              )}
            </div>
          </div>
        )}
        {refusal && (
          <p className="notice notice-error" role="alert">
            {refusalText(refusal, amount, t)}
          </p>
        )}
      </div>
    </li>
  );
}

type T = ReturnType<typeof useI18n>["t"];

function replyStatus(r: Reply, t: T): string {
  if (r.phase === "starting") return t("assistant.phase.starting");
  if (r.phase === "streaming") return r.stopRequested ? t("assistant.phase.stopping") : t("assistant.phase.streaming");
  if (r.phase === "done") return t(`assistant.finish.${r.finish ?? "stop"}`);
  if (r.phase === "refused") return t("assistant.phase.refused");
  return t("assistant.phase.failed");
}

/// The smallest top-up `deposit_spent` asks for: what the channel must cover, less its deposit.
function topUpMinimum(r: Reply): bigint {
  const owed = r.error?.owed ?? 0n;
  const deposit = r.error?.deposit ?? 0n;
  return owed > deposit ? owed - deposit : 1n;
}

/// Codes after which the same request may simply be sent again (as a new request).
function retryable(code: string): boolean {
  return ["deposit_spent", "expiring", "terms_changed", "busy", "payment_timeout", "model", "internal", "idempotency_conflict", "unknown_request"].includes(code);
}

export function errorSentence(r: Reply, amount: (v: bigint) => string, t: T): string {
  const e = r.error!;
  const vars = {
    owed: e.owed !== null ? amount(e.owed) : "?",
    deposit: e.deposit !== null ? amount(e.deposit) : "?",
    topUp: amount(topUpMinimum(r)),
    expiry: e.expiry !== null ? new Date(e.expiry * 1000).toLocaleString() : "?",
  };
  switch (e.code) {
    case "bad_message":
    case "unknown_model":
    case "terms_changed":
    case "unknown_channel":
    case "not_your_channel":
    case "user_disabled":
    case "channel_closed":
    case "expiring":
    case "expired":
    case "deposit_spent":
    case "busy":
    case "owed":
    case "voucher_refused":
    case "payment_timeout":
    case "idempotency_conflict":
    case "unknown_request":
    case "model":
    case "internal":
      return t(`assistant.err.${e.code}`, vars);
    default:
      return t("assistant.err.other", { code: e.code });
  }
}

export function refusalText(r: Refusal, amount: (v: bigint) => string, t: T): string {
  switch (r.reason) {
    case "channel_closed":
      return t("assistant.refuse.channel_closed");
    case "decreasing":
      return t("assistant.refuse.decreasing", { amount: amount(r.amount), signed: amount(r.highestSigned) });
    case "price_mismatch":
      return t("assistant.refuse.price_mismatch", { amount: amount(r.amount), expected: amount(r.expected) });
    case "over_deposit":
      return t("assistant.refuse.over_deposit", { amount: amount(r.amount), deposit: amount(r.deposit) });
    case "out_of_order":
      return t("assistant.refuse.out_of_order", { seq: r.seq, expected: r.expected });
  }
}
