// The federated-learning market's task list (`#/fl`): filters (state, mode, mine), a card per task
// with its terms and the member's actions — join, leave, buy data blocks (MarketToken approved
// first) — links to the task's page and, for a finished model that charges, to predict; and the
// form that creates a task in either mode (FlCreate.tsx).
import { useId, useState } from "react";
import type { Hex } from "viem";
import type { NetworkInfo } from "../lib/api";
import { FL_MODES, FL_STATES, type FlMode, type FlState, type FlTask } from "../lib/fl";
import { flHref } from "../lib/route";
import type { Tokens } from "../lib/services";
import type { Wallet } from "../lib/wallet";
import { useFlAccount, useFlTasks } from "../hooks/useFlData";
import type { FlMarket } from "../hooks/useFlMarket";
import { useI18n } from "../i18n-context";
import { FlCreate } from "./FlCreate";
import { amountIn, ModeBadge, StateBadge, taskName, TxStatus } from "./FlCommon";

interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
  fl: FlMarket;
  onConnect(): void;
}

export function FlTasksPage(p: Props) {
  const { t } = useI18n();
  const [state, setState] = useState<FlState | "">("");
  const [mode, setMode] = useState<FlMode | "">("");
  const [mine, setMine] = useState(false);
  const me = p.wallet?.address.toLowerCase() as Hex | undefined;
  const enabled = !!p.fl.market;
  const list = useFlTasks({ state, mode, account: mine ? me : undefined }, p.fl.version, enabled);
  const account = useFlAccount(me ?? null, p.fl.version, enabled && !!me, p.fl.withdrawable);
  const blocksOf = (task: FlTask): number | null => {
    const m = account.account?.memberships.find((x) => x.taskId === task.id && x.active);
    if (m) return m.blocks;
    const listed = task.members.find((x) => x.account === me && x.active);
    return listed ? listed.blocks : null;
  };
  const ids = { state: useId(), mode: useId(), mine: useId() };

  return (
    <section className="section fl" aria-labelledby="fl-title" data-testid="fl-tasks">
      <h1 id="fl-title" tabIndex={-1}>
        {t("fl.title")}
      </h1>
      <p className="lead">{t("fl.lead")}</p>
      <p>
        <a href="#/me" className="btn">
          {t("fl.toMe")}
        </a>{" "}
        <a href={flHref({ page: "predict", id: null })} className="btn">
          {t("fl.toPredict")}
        </a>
      </p>
      {p.net && !p.fl.market && (
        <p className="notice notice-warn" role="status">
          {t("fl.noMarket")}
        </p>
      )}
      {p.fl.market && !p.wallet && (
        <p className="notice">
          {t("fl.connectFirst")}{" "}
          <button type="button" className="btn" onClick={p.onConnect}>
            {t("wallet.connect")}
          </button>
        </p>
      )}
      {p.fl.market && p.wallet && p.net && <FlCreate net={p.net} chainOk={p.chainOk} tokens={p.tokens} fl={p.fl} />}
      {p.fl.market && (
        <section aria-labelledby="fl-list-title">
          <div className="section-head">
            <h2 id="fl-list-title">{t("fl.tasks")}</h2>
            <button type="button" className="btn" onClick={() => void list.reload()}>
              {t("data.reload")}
            </button>
          </div>
          <form className="inline-row fl-filters" onSubmit={(e) => e.preventDefault()} aria-label={t("fl.filters")}>
            <label htmlFor={ids.state}>
              {t("fl.filter.state")}{" "}
              <select id={ids.state} value={state} onChange={(e) => setState(e.target.value as FlState | "")} data-testid="fl-filter-state">
                <option value="">{t("fl.filter.any")}</option>
                {FL_STATES.map((s) => (
                  <option key={s} value={s}>
                    {t(`fl.state.${s}`)}
                  </option>
                ))}
              </select>
            </label>
            <label htmlFor={ids.mode}>
              {t("fl.filter.mode")}{" "}
              <select id={ids.mode} value={mode} onChange={(e) => setMode(e.target.value as FlMode | "")} data-testid="fl-filter-mode">
                <option value="">{t("fl.filter.any")}</option>
                {FL_MODES.map((m) => (
                  <option key={m} value={m}>
                    {t(`fl.mode.${m}`)}
                  </option>
                ))}
              </select>
            </label>
            {me && (
              <label htmlFor={ids.mine} className="toggle">
                <input id={ids.mine} type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} data-testid="fl-filter-mine" />
                {t("fl.filter.mine")}
              </label>
            )}
          </form>
          {list.error && (
            <p className="notice notice-error" role="alert">
              {t("error.load", { message: list.error })}
            </p>
          )}
          {list.tasks === null ? (
            !list.error && (
              <p className="muted" role="status">
                {t("fl.loading")}
              </p>
            )
          ) : list.tasks.length === 0 ? (
            <p className="muted">{t("fl.none")}</p>
          ) : (
            <ul className="cards fl-tasks" data-testid="fl-task-list">
              {list.tasks.map((task) => (
                <TaskCard key={task.id} task={task} tokens={p.tokens} fl={p.fl} blocks={blocksOf(task)} canAct={!!p.wallet && p.chainOk} />
              ))}
            </ul>
          )}
        </section>
      )}
    </section>
  );
}

/// Terms a person compares tasks by.
export function TaskFacts({ task, tokens }: { task: FlTask; tokens: Tokens }) {
  const { t } = useI18n();
  return (
    <dl className="facts">
      {task.mode === "reward" && (
        <div>
          <dt>{t("fl.pool")}</dt>
          <dd data-testid="fl-pool">{amountIn(tokens, task.pool, task.token)}</dd>
        </div>
      )}
      <div>
        <dt>{t("fl.fee")}</dt>
        <dd data-testid="fl-fee">{task.predictionFee > 0n ? amountIn(tokens, task.predictionFee, task.token) : t("fl.noFee")}</dd>
      </div>
      <div>
        <dt>{t("fl.members")}</dt>
        <dd data-testid="fl-members">{t("fl.membersOf", { n: task.memberCount, min: task.minParticipants })}</dd>
      </div>
      <div>
        <dt>{t("fl.blocks")}</dt>
        <dd>
          {t("fl.blocksSold", { sold: task.blocksSold, total: task.totalBlocks })}
          {task.blockPrice > 0n && <span className="muted"> · {t("fl.blockPrice", { price: amountIn(tokens, task.blockPrice, task.blockToken) })}</span>}
        </dd>
      </div>
    </dl>
  );
}

/// The member's actions on a task: join, leave, buy blocks.
export function MemberActions({ task, fl, blocks, canAct }: { task: FlTask; fl: FlMarket; blocks: number | null; canAct: boolean }) {
  const { t } = useI18n();
  const [count, setCount] = useState("1");
  const countId = useId();
  const active = task.state === "Open" || task.state === "Training";
  if (!active) return null;
  const member = blocks !== null;
  const n = Number(count);
  const left = task.totalBlocks - task.blocksSold;
  const forSale = task.blockPrice > 0n && left > 0;
  return (
    <div className="fl-actions">
      {member && <p data-testid="fl-my-blocks">{t("fl.myBlocks", { n: blocks })}</p>}
      {typeof task.specInfo?.blocksPerMember === "number" && task.specInfo.blocksPerMember > 0 && (
        <p className="muted">{t("fl.joinBlocks", { n: task.specInfo.blocksPerMember })}</p>
      )}
      <div className="inline-row">
        {!member ? (
          <button type="button" className="btn btn-primary" disabled={!canAct || fl.busy} onClick={() => void fl.join(task)} data-testid="fl-join">
            {t("fl.join")}
          </button>
        ) : (
          <button type="button" className="btn" disabled={!canAct || fl.busy} onClick={() => void fl.leave(task)} data-testid="fl-leave">
            {t("fl.leave")}
          </button>
        )}
      </div>
      {member && forSale && (
        <form
          className="inline-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (Number.isInteger(n) && n >= 1 && n <= left) void fl.buyBlocks(task, n);
          }}
        >
          <label htmlFor={countId} className="sr-only">
            {t("fl.blockCount")}
          </label>
          <input id={countId} type="number" min={1} max={left} step={1} value={count} onChange={(e) => setCount(e.target.value)} data-testid="fl-block-count" />
          <button type="submit" className="btn" disabled={!canAct || fl.busy || !(Number.isInteger(n) && n >= 1 && n <= left)} data-testid="fl-buy-blocks">
            {t("fl.buyBlocks")}
          </button>
        </form>
      )}
      <TxStatus tx={fl.tx} action={`join:${task.id}`} />
      <TxStatus tx={fl.tx} action={`leave:${task.id}`} />
      <TxStatus tx={fl.tx} action={`blocks:${task.id}`} />
    </div>
  );
}

function TaskCard({ task, tokens, fl, blocks, canAct }: { task: FlTask; tokens: Tokens; fl: FlMarket; blocks: number | null; canAct: boolean }) {
  const { t } = useI18n();
  return (
    <li className="card fl-task" data-testid={`fl-task-${task.id}`}>
      <h3 className="card-title">
        <a href={flHref({ page: "task", id: task.id })}>{taskName(task)}</a>
      </h3>
      <p className="fl-badges">
        <ModeBadge mode={task.mode} /> <StateBadge state={task.state} />
      </p>
      <TaskFacts task={task} tokens={tokens} />
      <MemberActions task={task} fl={fl} blocks={blocks} canAct={canAct} />
      <p className="inline-row">
        <a className="btn" href={flHref({ page: "task", id: task.id })} aria-label={t("fl.openNamed", { name: taskName(task) })}>
          {t("fl.open")}
        </a>
        {task.state === "Finished" && task.predictionFee > 0n && (
          <a className="btn" href={flHref({ page: "predict", id: task.id })} data-testid="fl-predict-link">
            {t("fl.predict")}
          </a>
        )}
      </p>
    </li>
  );
}
