// Profile and assets (`#/me`, the seed's 个人中心): the wallet's ETH and MarketToken, the faucet on the
// embedded dev chain (test ETH and 100 MarketToken, once per address — the seed's coins at sign-up
// and its simulated top-up), and the federated-learning records: memberships and blocks, shares with
// their withdrawable dividends (Withdraw), reward claims, predictions paid and investor revenue.
import { useState, type ReactNode } from "react";
import type { Hex } from "viem";
import type { NetworkInfo } from "../lib/api";
import { ETH_TOKEN } from "../lib/abi";
import { flApi } from "../lib/fl";
import { sharePercent } from "../lib/flCalls";
import { flHref } from "../lib/route";
import type { Tokens } from "../lib/services";
import { errorText, type Balances, type Wallet } from "../lib/wallet";
import { useFlAccount } from "../hooks/useFlData";
import type { FlMarket } from "../hooks/useFlMarket";
import { useI18n } from "../i18n-context";
import { amountIn, TxStatus } from "./FlCommon";
import { TxHash } from "./TxHash";

interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  balances: Balances | null;
  tokens: Tokens;
  fl: FlMarket;
  onConnect(): void;
  onBalancesChanged(): void;
}

type FaucetState = { status: "idle" } | { status: "busy" } | { status: "done"; txs: Hex[]; eth: bigint; token: bigint } | { status: "error"; message: string };

export function MePage(p: Props) {
  const { t } = useI18n();
  const me = (p.wallet?.address.toLowerCase() ?? null) as Hex | null;
  const acct = useFlAccount(me, p.fl.version, !!p.fl.market && !!me, p.fl.withdrawable);
  const [faucet, setFaucet] = useState<FaucetState>({ status: "idle" });
  const token = p.net?.marketToken ?? ETH_TOKEN;
  const link = (id: number) => <a href={flHref({ page: "task", id })}>#{id}</a>;

  const takeFaucet = async () => {
    if (!me) return;
    setFaucet({ status: "busy" });
    try {
      const gift = await flApi.faucet(me);
      setFaucet({ status: "done", ...gift });
      p.onBalancesChanged();
    } catch (e) {
      setFaucet({ status: "error", message: errorText(e) });
    }
  };

  return (
    <section className="section fl" aria-labelledby="me-title" data-testid="me-page">
      <h1 id="me-title" tabIndex={-1}>
        {t("me.title")}
      </h1>
      {!p.wallet ? (
        <p className="notice">
          {t("me.connectFirst")}{" "}
          <button type="button" className="btn" onClick={p.onConnect}>
            {t("wallet.connect")}
          </button>
        </p>
      ) : (
        <>
          <section className="panel" aria-labelledby="me-balances-title">
            <h2 id="me-balances-title">{t("me.balances")}</h2>
            <dl className="facts">
              <div>
                <dt>ETH</dt>
                <dd data-testid="me-eth">{p.balances ? amountIn(p.tokens, p.balances.eth, ETH_TOKEN) : "…"}</dd>
              </div>
              <div>
                <dt>{p.tokens[token.toLowerCase()]?.symbol ?? "MarketToken"}</dt>
                <dd data-testid="me-token">{p.balances ? amountIn(p.tokens, p.balances.token, token) : "…"}</dd>
              </div>
            </dl>
            {p.net?.embeddedChain && (
              <div>
                <button type="button" className="btn btn-primary" disabled={faucet.status === "busy" || faucet.status === "done"} onClick={() => void takeFaucet()} data-testid="me-faucet">
                  {t("me.faucet")}
                </button>
                <p className="hint">{t("me.faucetHint")}</p>
                {faucet.status === "busy" && (
                  <p role="status" className="status-line">
                    {t("me.faucetBusy")}
                  </p>
                )}
                {faucet.status === "done" && (
                  <p role="status" className="notice" data-testid="me-faucet-done">
                    {t("me.faucetDone", { eth: amountIn(p.tokens, faucet.eth, ETH_TOKEN), token: amountIn(p.tokens, faucet.token, token) })}{" "}
                    {faucet.txs.map((h) => (
                      <TxHash key={h} hash={h} />
                    ))}
                  </p>
                )}
                {faucet.status === "error" && (
                  <p role="alert" className="notice notice-error" data-testid="me-faucet-error">
                    {faucet.message}
                  </p>
                )}
              </div>
            )}
          </section>
          {!p.fl.market && <p className="notice notice-warn">{t("fl.noMarket")}</p>}
          {acct.error && (
            <p className="notice notice-error" role="alert">
              {t("error.load", { message: acct.error })}
            </p>
          )}
          {acct.account && (
            <>
              <Records title={t("me.memberships")} empty={t("me.none")} testId="me-memberships" head={[t("fl.task"), t("fl.blocks"), t("fl.filter.state"), t("fl.filter.mode")]}>
                {acct.account.memberships.map((m) => (
                  <tr key={m.taskId}>
                    <td>{link(m.taskId)}</td>
                    <td>{m.blocks}</td>
                    <td>{m.state ? t(`fl.state.${m.state}`) : "—"}</td>
                    <td>{m.mode ? t(`fl.mode.${m.mode}`) : "—"}</td>
                  </tr>
                ))}
              </Records>
              <Records title={t("me.shares")} empty={t("me.none")} testId="me-shares" head={[t("fl.task"), t("fl.result.share"), t("me.withdrawable"), ""]}>
                {acct.account.shares.map((s) => {
                  const w = s.withdrawable ?? acct.dividends[s.taskId] ?? null;
                  return (
                    <tr key={s.taskId} data-testid={`me-share-${s.taskId}`}>
                      <td>{link(s.taskId)}</td>
                      <td>{sharePercent(s.shares)}</td>
                      <td data-testid="me-withdrawable" data-amount={w?.toString() ?? ""}>
                        {w === null ? "…" : s.token ? amountIn(p.tokens, w, s.token) : w.toString()}
                      </td>
                      <td>
                        <button type="button" className="btn" disabled={!p.chainOk || p.fl.busy || !w || !me} onClick={() => me && void p.fl.withdrawDividends(s.taskId, me)} data-testid="me-withdraw">
                          {t("fl.withdraw")}
                        </button>
                        <TxStatus tx={p.fl.tx} action={`withdraw:${s.taskId}`} />
                      </td>
                    </tr>
                  );
                })}
              </Records>
              <Records title={t("me.claims")} empty={t("me.none")} testId="me-claims" head={[t("fl.task"), t("me.amount"), t("me.tx")]}>
                {acct.account.claims.map((c) => (
                  <tr key={c.taskId}>
                    <td>{link(c.taskId)}</td>
                    <td>{c.token ? amountIn(p.tokens, c.amount, c.token) : c.amount.toString()}</td>
                    <td>{c.tx ? <TxHash hash={c.tx} /> : "—"}</td>
                  </tr>
                ))}
              </Records>
              <Records title={t("me.predictions")} empty={t("me.none")} testId="me-predictions" head={[t("fl.task"), t("me.request"), t("fl.fee")]}>
                {acct.account.predictions.map((x) => (
                  <tr key={`${x.taskId}-${x.requestId}`}>
                    <td>{link(x.taskId)}</td>
                    <td>{x.requestId}</td>
                    <td>{x.token ? amountIn(p.tokens, x.fee, x.token) : x.fee.toString()}</td>
                  </tr>
                ))}
              </Records>
              <Records title={t("me.revenue")} empty={t("me.none")} testId="me-revenue" head={[t("fl.task"), t("me.source"), t("me.amount")]}>
                {acct.account.revenue.map((r, i) => (
                  <tr key={`${r.taskId}-${i}`}>
                    <td>{link(r.taskId)}</td>
                    <td>{r.source}</td>
                    <td>{r.token ? amountIn(p.tokens, r.amount, r.token) : r.amount.toString()}</td>
                  </tr>
                ))}
              </Records>
            </>
          )}
        </>
      )}
    </section>
  );
}

function Records({ title, empty, head, testId, children }: { title: string; empty: string; head: string[]; testId: string; children: ReactNode[] }) {
  return (
    <section className="panel" aria-label={title} data-testid={testId}>
      <h2>{title}</h2>
      {children.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                {head.map((h, i) => (
                  <th key={i} scope="col">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>{children}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
