// The channel panel: choose (and make default) the channel that pays the assistant, open one in a
// single flow (approve when an ERC-20 allowance is short, then open with a fresh session key as
// signer), its deposit / spent / billed / remaining (in the chosen model's completion tokens too),
// top up, extend, reclaim after expiry, the node's settlement state, and every chunk payment: the
// vouchers this browser signed and the node's per-chunk records.
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import type { Hex } from "viem";
import type { Channel } from "../lib/api";
import type { AssistantModel } from "../lib/assistant";
import { amountInputText, canReclaim, channelBalances, isEth, parseAmountInput } from "../lib/channels";
import { formatAmount, formatTime, shortHash } from "../lib/format";
import { modelPrices, tokensAffordable } from "../lib/pricing";
import type { TokenInfo, Tokens } from "../lib/services";
import type { Channels, TxStep } from "../hooks/useChannels";
import { useI18n } from "../i18n-context";
import { TxHash } from "./TxHash";

interface Props {
  ch: Channels;
  model: AssistantModel | null;
  tokens: Tokens;
  canTransact: boolean;
  /// Set by the chat when a reply needs a top-up of at least this much.
  topUpHint: bigint | null;
  /// Set by the chat when a reply needs the channel extended.
  extendHint: number;
  /// A reply is streaming on the chosen channel: it cannot be switched meanwhile.
  locked: boolean;
}

const DURATIONS = [
  { key: "assistant.duration.hour", seconds: 3600 },
  { key: "assistant.duration.day", seconds: 86_400 },
  { key: "assistant.duration.week", seconds: 7 * 86_400 },
  { key: "assistant.duration.month", seconds: 30 * 86_400 },
] as const;

function useNow(): number {
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    const id = setInterval(() => setNow(Math.floor(Date.now() / 1000)), 5000);
    return () => clearInterval(id);
  }, []);
  return now;
}

export function ChannelPanel(p: Props) {
  const { t, lang } = useI18n();
  const { ch, model } = p;
  const selectId = useId();
  const now = useNow();
  const c = ch.selected;
  const token: TokenInfo | undefined = c ? p.tokens[c.token.toLowerCase()] : model ? p.tokens[model.pricing.token.toLowerCase()] : undefined;
  const amount = (v: bigint | string) => (token ? formatAmount(v, token.decimals, token.symbol, token.decimals) : String(v));
  const billed = ch.account ? BigInt(ch.account.billed) : null;
  const accepted = ch.account ? BigInt(ch.account.accepted) : c ? BigInt(c.spent) : 0n;
  const bal = c ? channelBalances(BigInt(c.deposit), billed ?? accepted, accepted) : null;
  const affordable = bal && model ? tokensAffordable(bal.remaining, modelPrices(model)) : null;

  return (
    <section className="panel" aria-labelledby="channel-title" data-testid="channel-panel">
      <h2 id="channel-title">{t("channel.title")}</h2>
      {ch.loadError && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: ch.loadError })}
        </p>
      )}
      {ch.channels && ch.channels.length > 0 && (
        <div className="field">
          <label htmlFor={selectId}>{t("channel.choose")}</label>
          <select
            id={selectId}
            value={ch.selectedId ?? ""}
            onChange={(e) => ch.select(e.target.value as Hex)}
            disabled={p.locked}
            data-testid="channel-select"
          >
            {ch.channels.map((x) => (
              <option key={x.id} value={x.id}>
                {shortHash(x.id)} — {t(`channel.state.${x.state}`)}
                {x.id === ch.defaultId ? ` (${t("channel.default")})` : ""}
              </option>
            ))}
          </select>
        </div>
      )}
      {ch.channels && ch.channels.length === 0 && <p className="muted">{t("channel.none")}</p>}

      {c && bal && (
        <>
          <dl className="facts" data-testid="channel-facts">
            <Fact label={t("channel.deposit")} testId="channel-deposit">
              {amount(bal.deposit)}
            </Fact>
            <Fact label={t("channel.spent")} testId="channel-spent">
              {amount(bal.accepted)}
            </Fact>
            <Fact label={t("channel.billed")} testId="channel-billed">
              {billed === null ? "—" : amount(bal.billed)}
            </Fact>
            <Fact label={t("channel.remaining")} testId="channel-remaining">
              {amount(bal.remaining)}
            </Fact>
            {model && (
              <Fact label={t("channel.remainingTokens", { model: model.id })} testId="channel-remaining-tokens">
                {affordable === null ? t("channel.unlimited") : t("assistant.tokensN", { n: affordable.toLocaleString() })}
              </Fact>
            )}
            <Fact label={t("channel.expiry")}>{formatTime(c.expiry, lang)}</Fact>
            <Fact label={t("channel.state")} testId="channel-state">
              <span className={`badge ${c.state === "Open" ? "badge-ok" : c.state === "Expired" ? "badge-warn" : "badge-bad"}`}>
                {t(`channel.state.${c.state}`)}
              </span>
            </Fact>
            <Fact label={t("channel.settlement")} testId="channel-settlement">
              {settlement(c, accepted, amount, t)}
            </Fact>
            <Fact label={t("channel.sessionKey")}>
              {ch.local ? (
                <span className="mono" title={ch.local.signer}>
                  {shortHash(ch.local.signer)}
                </span>
              ) : (
                <span className="badge badge-warn">{t("channel.noSessionKey")}</span>
              )}
            </Fact>
          </dl>
          {bal.unpaid > 0n && <p className="notice notice-warn">{t("channel.unpaid", { amount: amount(bal.unpaid) })}</p>}
          <div className="wallet-actions">
            {ch.defaultId !== c.id ? (
              <button type="button" className="btn" onClick={() => ch.setDefault(c.id as Hex)} data-testid="channel-set-default">
                {t("channel.setDefault")}
              </button>
            ) : (
              <span className="badge badge-ok">{t("channel.isDefault")}</span>
            )}
            {canReclaim(c, now) && (
              <button
                type="button"
                className="btn btn-primary"
                disabled={!p.canTransact || !!ch.tx}
                onClick={() => void ch.reclaim()}
                data-testid="channel-reclaim"
              >
                {t("channel.reclaim")}
              </button>
            )}
          </div>
          {c.state === "Open" && (
            <>
              <AmountForm
                key={`top-${c.id}-${p.topUpHint ?? ""}`}
                label={t("channel.topUp")}
                submit={t("channel.topUpSubmit")}
                token={token}
                initial={p.topUpHint}
                focus={p.topUpHint !== null}
                disabled={!p.canTransact || !!ch.tx}
                onSubmit={(v) => void ch.topUp(v)}
                testId="channel-topup"
              />
              <DurationForm
                key={`ext-${c.id}-${p.extendHint}`}
                label={t("channel.extend")}
                submit={t("channel.extendSubmit")}
                focus={p.extendHint > 0}
                disabled={!p.canTransact || !!ch.tx}
                onSubmit={(s) => void ch.extend(s)}
                testId="channel-extend"
              />
            </>
          )}
        </>
      )}

      <TxProgress ch={ch} />

      <details className="create" open={ch.channels?.length === 0}>
        <summary>{t("channel.create")}</summary>
        <CreateForm {...p} />
      </details>

      {c && <Payments ch={ch} amount={amount} />}
    </section>
  );
}

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

function settlement(c: Channel, accepted: bigint, amount: (v: bigint | string) => string, t: ReturnType<typeof useI18n>["t"]): string {
  if (c.state === "Closed") return t("channel.settled", { paid: amount(c.paidToPayee ?? "0"), refunded: amount(c.refundedToPayer ?? "0") });
  if (c.state === "Reclaimed") return t("channel.reclaimed", { refunded: amount(c.refundedToPayer ?? c.deposit) });
  if (c.state === "Expired") return t("channel.expiredUnsettled");
  return t("channel.openUnsettled", { amount: amount(accepted) });
}

function TxProgress({ ch }: { ch: Channels }) {
  const { t } = useI18n();
  if (!ch.tx && !ch.error) return null;
  return (
    <div role="status" aria-live="polite">
      {ch.tx && (
        <p className="notice" data-testid="channel-tx" data-step={ch.tx.step}>
          {t(`channel.action.${ch.tx.action}`)}: {t(`channel.step.${ch.tx.step as TxStep}`)}
          {ch.tx.hash && (
            <>
              {" "}
              <TxHash hash={ch.tx.hash} />
            </>
          )}
        </p>
      )}
      {ch.error && (
        <p className="notice notice-error" role="alert" data-testid="channel-error">
          {ch.error}
        </p>
      )}
    </div>
  );
}

function AmountForm(p: {
  label: string;
  submit: string;
  token: TokenInfo | undefined;
  initial: bigint | null;
  focus: boolean;
  disabled: boolean;
  onSubmit(v: bigint): void;
  testId: string;
}) {
  const { t } = useI18n();
  const id = useId();
  const ref = useRef<HTMLInputElement>(null);
  const decimals = p.token?.decimals ?? 18;
  const [text, setText] = useState(p.initial !== null ? amountInputText(p.initial, decimals) : "");
  const [bad, setBad] = useState(false);
  useEffect(() => {
    if (p.focus) ref.current?.focus();
  }, [p.focus]);
  const go = (e: FormEvent) => {
    e.preventDefault();
    const v = parseAmountInput(text, decimals);
    setBad(v === null);
    if (v !== null) p.onSubmit(v);
  };
  return (
    <form className="inline-form" onSubmit={go} data-testid={p.testId}>
      <label htmlFor={id}>
        {p.label} {p.token ? `(${p.token.symbol})` : ""}
      </label>
      <div className="inline-row">
        <input
          ref={ref}
          id={id}
          inputMode="decimal"
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={bad}
          aria-describedby={bad ? `${id}-err` : undefined}
        />
        <button type="submit" className="btn" disabled={p.disabled}>
          {p.submit}
        </button>
      </div>
      {bad && (
        <p id={`${id}-err`} className="field-error">
          {t("channel.badAmount", { decimals })}
        </p>
      )}
    </form>
  );
}

function DurationForm(p: { label: string; submit: string; focus: boolean; disabled: boolean; onSubmit(s: number): void; testId: string }) {
  const { t } = useI18n();
  const id = useId();
  const ref = useRef<HTMLSelectElement>(null);
  const [seconds, setSeconds] = useState<number>(DURATIONS[2].seconds);
  useEffect(() => {
    if (p.focus) ref.current?.focus();
  }, [p.focus]);
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        p.onSubmit(seconds);
      }}
      data-testid={p.testId}
    >
      <label htmlFor={id}>{p.label}</label>
      <div className="inline-row">
        <select ref={ref} id={id} value={seconds} onChange={(e) => setSeconds(Number(e.target.value))}>
          {DURATIONS.map((d) => (
            <option key={d.seconds} value={d.seconds}>
              {t(d.key)}
            </option>
          ))}
        </select>
        <button type="submit" className="btn" disabled={p.disabled}>
          {p.submit}
        </button>
      </div>
    </form>
  );
}

function CreateForm(p: Props) {
  const { t } = useI18n();
  const amountId = useId();
  const durationId = useId();
  const { model, ch } = p;
  const token = model ? p.tokens[model.pricing.token.toLowerCase()] : undefined;
  const [text, setText] = useState("");
  const [seconds, setSeconds] = useState<number>(DURATIONS[2].seconds);
  const [bad, setBad] = useState(false);
  if (!model) return <p className="muted">{t("channel.createNeedsModel")}</p>;
  const go = (e: FormEvent) => {
    e.preventDefault();
    const v = token ? parseAmountInput(text, token.decimals) : null;
    setBad(v === null);
    if (v !== null) void ch.create(model.pricing.token, v, seconds);
  };
  return (
    <form className="create-form" onSubmit={go} data-testid="channel-create">
      <p className="hint">
        {isEth(model.pricing.token) ? t("channel.createHintEth") : t("channel.createHint", { token: token?.symbol ?? "…" })}
      </p>
      <div className="field">
        <label htmlFor={amountId}>
          {t("channel.deposit")} {token ? `(${token.symbol})` : ""}
        </label>
        <input id={amountId} inputMode="decimal" value={text} onChange={(e) => setText(e.target.value)} aria-invalid={bad} data-testid="channel-create-amount" />
        {bad && <p className="field-error">{t("channel.badAmount", { decimals: token?.decimals ?? 18 })}</p>}
      </div>
      <div className="field">
        <label htmlFor={durationId}>{t("channel.duration")}</label>
        <select id={durationId} value={seconds} onChange={(e) => setSeconds(Number(e.target.value))}>
          {DURATIONS.map((d) => (
            <option key={d.seconds} value={d.seconds}>
              {t(d.key)}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="btn btn-primary" disabled={!p.canTransact || !!ch.tx || !token} data-testid="channel-create-submit">
        {t("channel.createSubmit")}
      </button>
    </form>
  );
}

function Payments({ ch, amount }: { ch: Channels; amount: (v: bigint | string) => string }) {
  const { t, lang } = useI18n();
  const signed = [...(ch.local?.vouchers ?? [])].reverse();
  const replies = ch.account?.replies ?? [];
  return (
    <section className="payments" aria-labelledby="payments-title">
      <h3 id="payments-title">{t("channel.payments")}</h3>
      <details>
        <summary>{t("channel.signedHere", { n: signed.length })}</summary>
        {signed.length === 0 ? (
          <p className="muted">{t("channel.noVouchers")}</p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label={t("channel.signedHere", { n: signed.length })}>
            <table className="table" data-testid="vouchers">
              <thead>
                <tr>
                  <th scope="col">{t("channel.col.time")}</th>
                  <th scope="col">{t("channel.col.chunk")}</th>
                  <th scope="col">{t("channel.col.cumulative")}</th>
                  <th scope="col">{t("channel.col.signature")}</th>
                </tr>
              </thead>
              <tbody>
                {signed.map((v) => (
                  <tr key={`${v.signature}-${v.at}`}>
                    <td>{new Date(v.at).toLocaleTimeString(lang)}</td>
                    <td>{v.seq ?? t("channel.owedVoucher")}</td>
                    <td>{amount(v.amount)}</td>
                    <td className="mono" title={v.signature}>
                      {shortHash(v.signature)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </details>
      <details>
        <summary>{t("channel.nodeRecords", { n: replies.length })}</summary>
        {replies.length === 0 ? (
          <p className="muted">{t("channel.noReplies")}</p>
        ) : (
          <ul className="replies">
            {replies.map((r) => (
              <li key={r.requestId}>
                <p>
                  <strong>{r.model}</strong> · {formatTime(r.createdAt, lang)} · {r.finish ?? r.status} ·{" "}
                  {t("assistant.replyTokens", { p: r.promptTokens, c: r.completionTokens })} · {t("assistant.replyCost", { amount: amount(r.cost) })}
                </p>
                <div className="table-wrap" tabIndex={0} role="region" aria-label={t("channel.chunksOf", { id: r.requestId })}>
                  <table className="table">
                    <thead>
                      <tr>
                        <th scope="col">{t("channel.col.chunk")}</th>
                        <th scope="col">{t("channel.col.tokens")}</th>
                        <th scope="col">{t("channel.col.cost")}</th>
                        <th scope="col">{t("channel.col.cumulative")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.chunks.map((k) => (
                        <tr key={k.seq}>
                          <td>{k.seq}</td>
                          <td>{k.tokens}</td>
                          <td>{amount(k.cost)}</td>
                          <td>{amount(k.cumulative)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </li>
            ))}
          </ul>
        )}
      </details>
    </section>
  );
}
