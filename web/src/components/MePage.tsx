// Profile and assets (`#/me`, the seed's 个人中心): my profile, e-mail and notification preferences
// (ProfilePage.tsx), the wallet's ETH and MarketToken, the faucet on the
// embedded dev chain (test ETH and 100 MarketToken, once per address — the seed's coins at sign-up
// and its simulated top-up), and the federated-learning records: memberships and blocks, shares with
// their withdrawable dividends (Withdraw), reward claims, predictions paid and investor revenue, and
// what I hold on the community task market (BoardHoldings.tsx), and my compute tasks, payment
// channels and data orders (MeActivity.tsx).
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
import { useFlMarket } from "../hooks/useFlMarket";
import { useI18n } from "../i18n-context";
import { BoardHoldings } from "./BoardHoldings";
import { amountIn, taskName, TxStatus } from "./FlCommon";
import { MeActivity } from "./MeActivity";
import { ProfileSection } from "./ProfilePage";
import { TxHash } from "./TxHash";

interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  balances: Balances | null;
  tokens: Tokens;
  signedIn: boolean;
  authBusy: boolean;
  onSignIn(): void;
  onConnect(): void;
  onBalancesChanged(): void;
}

type FaucetState = { status: "idle" } | { status: "busy" } | { status: "done"; txs: Hex[]; eth: bigint; token: bigint } | { status: "error"; message: string };

export function MePage(p: Props) {
  const { t } = useI18n();
  const me = (p.wallet?.address.toLowerCase() ?? null) as Hex | null;
  const fl = useFlMarket({ net: p.net, wallet: p.wallet, chainOk: p.chainOk, onBalancesChanged: p.onBalancesChanged });
  const acct = useFlAccount(me, fl.version, !!fl.market && !!me, fl.withdrawable);
  const [faucet, setFaucet] = useState<FaucetState>({ status: "idle" });
  const token = p.net?.marketToken ?? ETH_TOKEN;
  const link = (id: number) => <a href={flHref({ page: "task", id })}>{acct.tasks[id] ? taskName(acct.tasks[id]) : `#${id}`}</a>;
  /// An amount in task `id`'s token (the raw integer until the task is read).
  const amountOf = (id: number, v: bigint) => (acct.tasks[id] ? amountIn(p.tokens, v, acct.tasks[id].token) : v.toString());

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
          <ProfileSection address={p.wallet.address} signedIn={p.signedIn} authBusy={p.authBusy} onSignIn={p.onSignIn} onConnect={p.onConnect} />
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
          <MeActivity address={p.wallet.address} tokens={p.tokens} signedIn={p.signedIn} authBusy={p.authBusy} onSignIn={p.onSignIn} />
          <BoardHoldings address={p.wallet.address} />
          {!fl.market && <p className="notice notice-warn">{t("fl.noMarket")}</p>}
          {acct.error && (
            <p className="notice notice-error" role="alert">
              {t("error.load", { message: acct.error })}
            </p>
          )}
          {acct.account && (
            <>
              <Records title={t("me.memberships")} empty={t("me.none")} testId="me-memberships" head={[t("fl.task"), t("me.blocksBought"), t("fl.filter.state"), t("fl.filter.mode")]}>
                {acct.account.memberships.map((m) => {
                  const task = acct.tasks[m.taskId];
                  return (
                    <tr key={m.taskId}>
                      <td>{link(m.taskId)}</td>
                      <td>{m.active ? m.blocks : t("me.left")}</td>
                      <td>{task ? t(`fl.state.${task.state}`) : "…"}</td>
                      <td>{task ? t(`fl.mode.${task.mode}`) : "…"}</td>
                    </tr>
                  );
                })}
              </Records>
              <Records title={t("me.shares")} empty={t("me.none")} testId="me-shares" head={[t("fl.task"), t("fl.result.share"), t("me.withdrawable"), ""]}>
                {acct.account.shares.map((s) => {
                  const w = acct.dividends[s.taskId] ?? null;
                  return (
                    <tr key={s.taskId} data-testid={`me-share-${s.taskId}`}>
                      <td>{link(s.taskId)}</td>
                      <td>{sharePercent(s.shares)}</td>
                      <td data-testid="me-withdrawable" data-amount={w?.toString() ?? ""}>
                        {w === null ? "…" : amountOf(s.taskId, w)}
                      </td>
                      <td>
                        <button type="button" className="btn" disabled={!p.chainOk || fl.busy || !w || !me} onClick={() => me && void fl.withdrawDividends(s.taskId, me)} data-testid="me-withdraw">
                          {t("fl.withdraw")}
                        </button>
                        <TxStatus tx={fl.tx} action={`withdraw:${s.taskId}`} />
                      </td>
                    </tr>
                  );
                })}
              </Records>
              <Records title={t("me.claims")} empty={t("me.none")} testId="me-claims" head={[t("fl.task"), t("me.amount"), t("me.tx")]}>
                {[
                  ...acct.account.claims.map((c) => ({ ...c, kind: "reward" as const })),
                  ...acct.account.dividends.map((d) => ({ ...d, kind: "dividend" as const })),
                ].map((c) => (
                  <tr key={`${c.kind}-${c.taskId}-${c.tx ?? ""}`}>
                    <td>
                      {link(c.taskId)} <span className="muted">{t(`me.kind.${c.kind}`)}</span>
                    </td>
                    <td>{amountOf(c.taskId, c.amount)}</td>
                    <td>{c.tx ? <TxHash hash={c.tx} /> : "—"}</td>
                  </tr>
                ))}
              </Records>
              <Records title={t("me.predictions")} empty={t("me.none")} testId="me-predictions" head={[t("fl.task"), t("me.request"), t("fl.fee")]}>
                {acct.account.predictions.map((x) => (
                  <tr key={`${x.taskId}-${x.requestId}`}>
                    <td>{link(x.taskId)}</td>
                    <td>{x.requestId}</td>
                    <td>{amountOf(x.taskId, x.fee)}</td>
                  </tr>
                ))}
              </Records>
              <Records title={t("me.revenue")} empty={t("me.none")} testId="me-revenue" head={[t("fl.task"), t("me.predictionFees"), t("me.blockSales")]}>
                {acct.account.revenue.map((r) => {
                  const task = acct.tasks[r.taskId];
                  return (
                    <tr key={r.taskId}>
                      <td>{link(r.taskId)}</td>
                      <td>
                        {amountOf(r.taskId, r.predictionFees)} <span className="muted">{t("me.nPredictions", { n: r.predictions })}</span>
                      </td>
                      <td>{task ? amountIn(p.tokens, r.blockRevenue, task.blockToken) : r.blockRevenue.toString()}</td>
                    </tr>
                  );
                })}
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
