// One federated-learning task (`#/fl/task/{id}`): its state and terms, the member's actions, the
// members and their blocks, the round being trained, the global accuracy curve beside the
// centralised reference and the per-round contributions (FlCharts.tsx), the coordinator's logs — live while training —, and the result:
// in reward-pool mode my amount and the Claim button (the node's Merkle proof, checked against the
// root here first), in shareholding mode the shareholders and my dividends with Withdraw.
import { useEffect, useState } from "react";
import type { Hex } from "viem";
import { ipfsUrl } from "../lib/api";
import { plannedRounds, type FlResult, type FlTask } from "../lib/fl";
import { canCancel, sharePercent } from "../lib/flCalls";
import { formatTime, shortAddress } from "../lib/format";
import { flHref } from "../lib/route";
import type { Tokens } from "../lib/services";
import type { Wallet } from "../lib/wallet";
import { useFlTask } from "../hooks/useFlData";
import type { FlMarket } from "../hooks/useFlMarket";
import { useI18n } from "../i18n-context";
import { AccuracyChart, ContributionChart, RoundsTable } from "./FlCharts";
import { amountIn, ModeBadge, StateBadge, taskName, TxStatus } from "./FlCommon";
import { FlListModel } from "./FlListModel";
import { MemberActions, TaskFacts } from "./FlTasks";

interface Props {
  id: number;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
  fl: FlMarket;
}

export function FlTaskPage({ id, wallet, chainOk, tokens, fl }: Props) {
  const { t, lang } = useI18n();
  const me = (wallet?.address.toLowerCase() ?? null) as Hex | null;
  const view = useFlTask(id, me, fl.version, !!fl.market);
  const task = view.task;
  const time = (s: number) => formatTime(s, lang);
  const myBlocks = task?.members.find((m) => m.account === me && m.active)?.blocks ?? null;
  const round = view.rounds[view.rounds.length - 1]?.round ?? 0;
  const planned = task ? plannedRounds(task) : null;

  return (
    <section className="section fl" aria-labelledby="fl-task-title" data-testid="fl-task-page" data-task={task?.id ?? ""} data-state={task?.state ?? ""}>
      <p>
        <a href={flHref({ page: "tasks" })}>← {t("fl.back")}</a>
      </p>
      <h1 id="fl-task-title" tabIndex={-1}>
        {task ? taskName(task) : t("fl.taskN", { id })}
      </h1>
      {view.error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: view.error })}
        </p>
      )}
      {!task && !view.error && (
        <p className="muted" role="status">
          {t("fl.loading")}
        </p>
      )}
      {task && (
        <>
          <p className="fl-badges">
            <ModeBadge mode={task.mode} /> <StateBadge state={task.state} /> <span className="muted">#{task.id}</span>
          </p>
          <div className="fl-columns">
            <section className="panel" aria-labelledby="fl-terms-title">
              <h2 id="fl-terms-title">{t("fl.terms")}</h2>
              <TaskFacts task={task} tokens={tokens} />
              <dl className="facts">
                <div>
                  <dt>{t("fl.investor")}</dt>
                  <dd className="mono" title={task.investor}>
                    {shortAddress(task.investor)}
                  </dd>
                </div>
                <div>
                  <dt>{t("fl.coordinator")}</dt>
                  <dd className="mono" title={task.coordinator}>
                    {shortAddress(task.coordinator)}
                  </dd>
                </div>
                <div>
                  <dt>{t("fl.startDeadline")}</dt>
                  <dd>{time(task.startDeadline)}</dd>
                </div>
                <div>
                  <dt>{t("fl.finishDeadline")}</dt>
                  <dd>{time(task.finishDeadline)}</dd>
                </div>
                {task.spec && (
                  <div>
                    <dt>{t("fl.spec")}</dt>
                    <dd className="mono">
                      <a href={ipfsUrl(task.spec)} title={task.spec}>
                        {task.spec.length > 20 ? `${task.spec.slice(0, 12)}…${task.spec.slice(-6)}` : task.spec}
                      </a>
                    </dd>
                  </div>
                )}
                {typeof task.specInfo?.dataset === "string" && (
                  <div>
                    <dt>{t("fl.spec.dataset")}</dt>
                    <dd>{task.specInfo.dataset}</dd>
                  </div>
                )}
              </dl>
              <MemberActions task={task} fl={fl} blocks={myBlocks} canAct={!!wallet && chainOk} />
              <Cancel task={task} me={me} fl={fl} canAct={!!wallet && chainOk} tokens={tokens} />
            </section>
            <section className="panel" aria-labelledby="fl-members-title">
              <h2 id="fl-members-title">{t("fl.membersTitle", { n: task.memberCount })}</h2>
              {task.state === "Open" && <p className="muted">{t("fl.startsAt", { min: task.minParticipants })}</p>}
              {task.members.length === 0 ? (
                <p className="muted">{t("fl.noMembers")}</p>
              ) : (
                <ul className="fl-members" data-testid="fl-member-list">
                  {task.members.filter((m) => m.active).map((m) => (
                    <li key={m.account}>
                      <span className="mono" title={m.account}>
                        {shortAddress(m.account)}
                      </span>
                      {m.account === me && <> <span className="badge badge-ok">{t("fl.you")}</span></>} <span className="muted">{t("fl.nBlocks", { n: m.blocks })}</span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </div>

          <section className="panel" aria-labelledby="fl-progress-title">
            <h2 id="fl-progress-title">{t("fl.progress")}</h2>
            <p data-testid="fl-round" data-round={round}>
              {planned ? t("fl.roundOf", { round, total: planned }) : t("fl.roundN", { round })}
              {task.state === "Training" && <span className="muted"> · {t("fl.live")}</span>}
            </p>
            {planned ? <progress max={planned} value={Math.min(round, planned)} aria-label={t("fl.progress")} className="fl-progress" /> : null}
            <div className="fl-charts">
              <AccuracyChart rounds={view.rounds} planned={planned} reference={view.reference} />
              <ContributionChart rounds={view.rounds} />
            </div>
            <RoundsTable rounds={view.rounds} />
          </section>

          {task.state === "Finished" && <Result task={task} result={view.result} resultError={view.resultError} me={me} wallet={wallet} tokens={tokens} fl={fl} chainOk={chainOk} />}

          <section className="panel" aria-labelledby="fl-logs-title">
            <h2 id="fl-logs-title">{t("fl.logs")}</h2>
            {view.logs.length === 0 ? (
              <p className="muted">{t("fl.noLogs")}</p>
            ) : (
              <ol className="fl-logs mono" role="log" data-testid="fl-logs">
                {view.logs.map((l) => (
                  <li key={l.seq} className={`fl-log fl-log-${l.level}`}>
                    {l.at !== null && <time dateTime={new Date(l.at * 1000).toISOString()}>{new Date(l.at * 1000).toLocaleTimeString(lang)}</time>} <span className="fl-level">{l.level}</span> {l.message}
                  </li>
                ))}
              </ol>
            )}
          </section>
        </>
      )}
    </section>
  );
}

/// Cancelling (the investor while recruiting, anyone past a deadline: the pool goes back), and a
/// member's held block payment taken back from a cancelled task.
function Cancel({ task, me, fl, canAct, tokens }: { task: FlTask; me: Hex | null; fl: FlMarket; canAct: boolean; tokens: Tokens }) {
  const { t } = useI18n();
  const now = Math.floor(Date.now() / 1000);
  const held = task.state === "Cancelled" ? task.members.find((m) => m.account === me && m.escrowed > 0n) : undefined;
  if (!canCancel(task, me, now) && !held) return null;
  return (
    <div className="fl-actions">
      {canCancel(task, me, now) && (
        <button type="button" className="btn" disabled={!canAct || fl.busy} onClick={() => void fl.cancel(task)} data-testid="fl-cancel">
          {task.mode === "reward" ? t("fl.cancelRefund", { pool: amountIn(tokens, task.pool, task.token) }) : t("fl.cancel")}
        </button>
      )}
      {held && me && (
        <button type="button" className="btn" disabled={!canAct || fl.busy} onClick={() => void fl.refundBlocks(task, me)} data-testid="fl-refund-blocks">
          {t("fl.refundBlocks", { amount: amountIn(tokens, held.escrowed, task.blockToken) })}
        </button>
      )}
      <TxStatus tx={fl.tx} action={`cancel:${task.id}`} />
      <TxStatus tx={fl.tx} action={`refund:${task.id}`} />
    </div>
  );
}

function Result(p: { task: FlTask; result: FlResult | null; resultError: string | null; me: Hex | null; wallet: Wallet | null; tokens: Tokens; fl: FlMarket; chainOk: boolean }) {
  const { t } = useI18n();
  const { task, result, me, fl } = p;
  const claimed = task.claims.find((c) => c.account === me);
  const [dividend, setDividend] = useState<bigint | null>(null);
  const myShares = task.shares.find((s) => s.account === me);
  const { withdrawable, version } = fl;
  useEffect(() => {
    if (task.mode !== "shares" || !me || !myShares) return;
    void withdrawable(task.id, me).then(setDividend);
  }, [task.mode, task.id, me, myShares, withdrawable, version]);

  return (
    <section className="panel" aria-labelledby="fl-result-title" data-testid="fl-result">
      <h2 id="fl-result-title">{t("fl.result.title")}</h2>
      {task.recordCid && (
        <p className="muted">
          {t("fl.result.record")}{" "}
          <a className="mono" href={ipfsUrl(task.recordCid)}>
            {task.recordCid}
          </a>
        </p>
      )}
      {p.resultError && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: p.resultError })}
        </p>
      )}
      {task.mode === "reward" && (
        <>
          {result && result.amount > 0n ? (
            <div className="fl-claim">
              <p data-testid="fl-my-reward" data-amount={result.amount.toString()}>
                {t("fl.result.myReward", { amount: amountIn(p.tokens, result.amount, task.token) })}
              </p>
              {claimed ? (
                <p className="badge badge-ok" data-testid="fl-claimed">
                  {t("fl.result.claimed")}
                </p>
              ) : (
                <button
                  type="button"
                  className="btn btn-primary"
                  disabled={!p.chainOk || fl.busy || !me}
                  onClick={() => me && void fl.claim(task, me, result.amount, result.proof)}
                  data-testid="fl-claim"
                >
                  {t("fl.result.claim")}
                </button>
              )}
              <TxStatus tx={fl.tx} action={`claim:${task.id}`} />
            </div>
          ) : (
            <p className="muted">{t("fl.result.noReward")}</p>
          )}
          <p className="muted">{t("fl.result.investorOwns")}</p>
          <FlListModel task={task} me={me} wallet={p.wallet} chainOk={p.chainOk} tokens={p.tokens} />
        </>
      )}
      {task.mode === "shares" && (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="fl-shareholders">
              <caption className="sr-only">{t("fl.result.shareholders")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("fl.result.holder")}</th>
                  <th scope="col">{t("fl.result.share")}</th>
                </tr>
              </thead>
              <tbody>
                {task.shares.map((s) => (
                  <tr key={s.account} data-testid="fl-shareholder">
                    <td className="mono" title={s.account}>
                      {shortAddress(s.account)} {s.account === me && <span className="badge badge-ok">{t("fl.you")}</span>}
                    </td>
                    <td>{sharePercent(s.shares)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {myShares && (
            <div className="fl-claim">
              <p data-testid="fl-my-dividends">
                {t("fl.result.dividends", { amount: dividend === null ? "…" : amountIn(p.tokens, dividend, task.token) })}
              </p>
              <button
                type="button"
                className="btn btn-primary"
                disabled={!p.chainOk || fl.busy || !me || !dividend}
                onClick={() => me && void fl.withdrawDividends(task.id, me)}
                data-testid="fl-withdraw"
              >
                {t("fl.withdraw")}
              </button>
              <TxStatus tx={fl.tx} action={`withdraw:${task.id}`} />
            </div>
          )}
        </>
      )}
      <p data-testid="fl-predictions">
        {t("fl.result.predictions", { n: task.predictions.count, revenue: amountIn(p.tokens, task.predictions.revenue, task.token) })}
        {task.predictionFee > 0n && (
          <>
            {" "}
            <a className="btn" href={flHref({ page: "predict", id: task.id })}>
              {t("fl.predict")}
            </a>
          </>
        )}
      </p>
    </section>
  );
}
