// The task mall (`#/board`): tasks newest first, filtered by community, reward token and state,
// sorted on the page shown (the reward only within one token: amounts in different tokens do not
// compare), a page at a time; each card links to the task's page. Live: any task event re-reads.
import { useId, useMemo, useState } from "react";
import { ETH_TOKEN } from "../lib/abi";
import type { BoardTaskState } from "../lib/board";
import { SORTS, sortTasks, type Sort } from "../lib/boardRules";
import { boardHref } from "../lib/boardRoute";
import type { BoardContext } from "../hooks/useBoard";
import { useBoardTasks } from "../hooks/useBoardData";
import { useI18n } from "../i18n-context";
import { RewardText, TaskStateBadge, TaskTitle, When } from "./BoardCommon";

export const PAGE = 20;
export function BoardMall({ ctx }: { ctx: BoardContext }) {
  const { t } = useI18n();
  const ids = { community: useId(), token: useId(), state: useId(), sort: useId() };
  const [community, setCommunity] = useState("");
  const [token, setToken] = useState("");
  const [state, setState] = useState<BoardTaskState | "">("open");
  const [sort, setSort] = useState<Sort>("newest");
  const [page, setPage] = useState(0);
  const filter = { community: community === "" ? null : Number(community), token: token || null, state: state || null, limit: PAGE + 1, offset: page * PAGE };
  const list = useBoardTasks(filter, ctx.live, true);
  const shown = useMemo(() => sortTasks((list.tasks ?? []).slice(0, PAGE), sort), [list.tasks, sort]);
  const more = (list.tasks?.length ?? 0) > PAGE;
  const tokenChoices: [string, string][] = [
    [ETH_TOKEN, "ETH"],
    ...(ctx.net ? [[ctx.net.marketToken.toLowerCase(), ctx.tokens[ctx.net.marketToken.toLowerCase()]?.symbol ?? "MarketToken"] as [string, string]] : []),
    ...(ctx.communities ?? []).map((c) => [c.pointsToken, `${c.symbol} (${c.name})`] as [string, string]),
  ];
  const refilter = (f: () => void) => {
    f();
    setPage(0);
  };

  return (
    <>
      <h1 id="board-title" tabIndex={-1}>
        {t("board.title")}
      </h1>
      <p className="lead">{t("board.lead")}</p>
      <p>
        <a className="btn btn-primary" href={boardHref({ page: "new" })} data-testid="board-publish-link">
          {t("board.publish")}
        </a>
      </p>
      <form className="inline-row board-filters" onSubmit={(e) => e.preventDefault()} aria-label={t("board.filters")}>
        <label htmlFor={ids.community}>
          {t("board.filter.community")}{" "}
          <select id={ids.community} value={community} onChange={(e) => refilter(() => setCommunity(e.target.value))} data-testid="board-filter-community">
            <option value="">{t("fl.filter.any")}</option>
            {(ctx.communities ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={ids.token}>
          {t("board.filter.token")}{" "}
          <select
            id={ids.token}
            value={token}
            onChange={(e) =>
              refilter(() => {
                setToken(e.target.value);
                if (!e.target.value && sort === "reward") setSort("newest");
              })
            }
            data-testid="board-filter-token"
          >
            <option value="">{t("fl.filter.any")}</option>
            {tokenChoices.map(([a, name]) => (
              <option key={a} value={a}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={ids.state}>
          {t("board.filter.state")}{" "}
          <select id={ids.state} value={state} onChange={(e) => refilter(() => setState(e.target.value as BoardTaskState | ""))} data-testid="board-filter-state">
            <option value="">{t("fl.filter.any")}</option>
            <option value="open">{t("board.state.open")}</option>
            <option value="cancelled">{t("board.state.cancelled")}</option>
          </select>
        </label>
        <label htmlFor={ids.sort}>
          {t("board.sort")}{" "}
          <select id={ids.sort} value={sort} onChange={(e) => setSort(e.target.value as Sort)} data-testid="board-sort">
            {SORTS.map((s) => (
              <option key={s} value={s} disabled={s === "reward" && !token}>
                {t(`board.sort.${s}`)}
              </option>
            ))}
          </select>
        </label>
      </form>
      {sort === "reward" && !token && <p className="muted">{t("board.sort.rewardNeedsToken")}</p>}
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
      ) : shown.length === 0 ? (
        <p className="muted">{t("board.none")}</p>
      ) : (
        <ul className="cards board-tasks" data-testid="board-task-list">
          {shown.map((task) => (
            <li key={task.id} className="card board-task" data-testid={`board-task-${task.id}`}>
              <h2 className="card-title">
                <a href={boardHref({ page: "task", id: task.id })}>
                  <TaskTitle task={task} />
                </a>
              </h2>
              <p>
                <TaskStateBadge task={task} now={ctx.now} />{" "}
                {task.communityId !== null && <span className="badge badge-muted">{ctx.communities?.find((c) => c.id === task.communityId)?.name ?? t("board.communityN", { id: task.communityId })}</span>}
              </p>
              <dl className="facts">
                <div>
                  <dt>{t("board.reward")}</dt>
                  <dd>
                    <RewardText task={task} tokens={ctx.tokens} communities={ctx.communities} />
                  </dd>
                </div>
                <div>
                  <dt>{t("board.freeSlots")}</dt>
                  <dd data-testid="board-free-slots">{t("board.freeOf", { free: task.freeSlots, slots: task.slots })}</dd>
                </div>
                <div>
                  <dt>{t("board.deadline")}</dt>
                  <dd>
                    <When at={task.deadline} now={ctx.now} />
                  </dd>
                </div>
              </dl>
            </li>
          ))}
        </ul>
      )}
      <nav className="inline-row board-pager" aria-label={t("board.pages")}>
        <button type="button" className="btn" disabled={page === 0} onClick={() => setPage((n) => Math.max(0, n - 1))} data-testid="board-prev">
          {t("board.prev")}
        </button>
        <span className="muted">{t("board.pageN", { n: page + 1 })}</span>
        <button type="button" className="btn" disabled={!more} onClick={() => setPage((n) => n + 1)} data-testid="board-next">
          {t("board.next")}
        </button>
      </nav>
    </>
  );
}
