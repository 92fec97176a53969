// My tasks (`#/board/mine`): the tasks I published (with what waits for my review) and those I work
// on (my claim's state and its window), and my points in each community, from
// `/api/accounts/{me}/board`, re-read on every board event.
import type { Hex } from "viem";
import type { BoardTask } from "../lib/board";
import { withdrawCall } from "../lib/boardCalls";
import { answerEndsAt, boardAmount, ETH, pointsAmount, reviewEndsAt } from "../lib/boardRules";
import { boardHref } from "../lib/boardRoute";
import type { BoardContext } from "../hooks/useBoard";
import { useAccountBoard } from "../hooks/useBoardData";
import { useOwed } from "../hooks/useCommunities";
import { useI18n } from "../i18n-context";
import { BoardTxStatus, ClaimBadge, RewardText, TaskStateBadge, TaskTitle, When } from "./BoardCommon";

export function BoardMine({ ctx }: { ctx: BoardContext }) {
  const { t } = useI18n();
  const view = useAccountBoard(ctx.me, ctx.live, !!ctx.me);
  const a = view.account;
  // Every token my tasks pay in: the board may owe me some of it (a payout it could not push).
  const tokens = [...new Set([ETH, ...(a?.published ?? []).map((x) => x.token), ...(a?.working ?? []).map((x) => x.task.token)])] as Hex[];
  const owed = useOwed(ctx.net, ctx.config.taskBoard, ctx.me, tokens, ctx.live.version);
  return (
    <>
      <h1 id="board-title" tabIndex={-1}>
        {t("board.mine.title")}
      </h1>
      {view.error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: view.error })}
        </p>
      )}
      {ctx.me && !a && !view.error && (
        <p className="muted" role="status">
          {t("fl.loading")}
        </p>
      )}
      {owed.length > 0 && (
        <section className="panel" aria-labelledby="board-mine-owed" data-testid="board-mine-owed">
          <h2 id="board-mine-owed">{t("board.mine.owed")}</h2>
          <p className="muted">{t("board.mine.owedHint")}</p>
          <ul>
            {owed.map((o) => (
              <li key={o.token} className="inline-row">
                <span>{boardAmount(o.amount, o.token, ctx.tokens)}</span>
                <button type="button" className="btn" disabled={ctx.tx.busy || !ctx.canAct} onClick={() => void ctx.tx.run(`withdraw:${o.token}`, withdrawCall(ctx.config.taskBoard, o.token))}>
                  {t("board.mine.withdraw")}
                </button>
                <BoardTxStatus tx={ctx.tx.tx} action={`withdraw:${o.token}`} />
              </li>
            ))}
          </ul>
        </section>
      )}
      {a && (
        <>
          <section aria-labelledby="board-mine-published" data-testid="board-mine-published">
            <h2 id="board-mine-published">{t("board.mine.published")}</h2>
            {a.published.length === 0 ? (
              <p className="muted">
                {t("board.mine.nonePublished")} <a href={boardHref({ page: "new" })}>{t("board.publish")}</a>
              </p>
            ) : (
              <ul className="cards">
                {a.published.map((task) => (
                  <li key={task.id} className="card" data-testid={`board-mine-task-${task.id}`}>
                    <TaskHead ctx={ctx} task={task} />
                    {task.counts.submitted > 0 && <p className="badge badge-warn">{t("board.mine.toReview", { n: task.counts.submitted })}</p>}{" "}
                    {task.counts.disputed > 0 && <p className="badge badge-warn">{t("board.mine.disputed", { n: task.counts.disputed })}</p>}
                    <p className="muted">{t("board.mine.counts", { working: task.counts.working, submitted: task.counts.submitted, approved: task.counts.approved + task.counts.resolved })}</p>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="board-mine-working" data-testid="board-mine-working">
            <h2 id="board-mine-working">{t("board.mine.working")}</h2>
            {a.working.length === 0 ? (
              <p className="muted">
                {t("board.mine.noneWorking")} <a href={boardHref({ page: "mall" })}>{t("board.nav.mall")}</a>
              </p>
            ) : (
              <ul className="cards">
                {a.working.map(({ task, claim }) => (
                  <li key={task.id} className="card" data-testid={`board-mine-claim-${task.id}`}>
                    <TaskHead ctx={ctx} task={task} />
                    <p>
                      <ClaimBadge state={claim.state} />{" "}
                      {claim.state === "submitted" && (
                        <span className="muted">
                          {t("board.reviewEndsAt")}: <When at={reviewEndsAt(task, claim)} now={ctx.now} />
                        </span>
                      )}
                      {claim.state === "rejected" && (
                        <span className="muted">
                          {t("board.answerEndsAt")}: <When at={answerEndsAt(claim, ctx.config.answerWindow)} now={ctx.now} />
                        </span>
                      )}
                    </p>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="board-mine-points" data-testid="board-mine-points">
            <h2 id="board-mine-points">{t("board.mine.points")}</h2>
            {a.points.length === 0 ? (
              <p className="muted">{t("board.mine.noPoints")}</p>
            ) : (
              <ul>
                {a.points.map((p) => (
                  <li key={p.communityId}>
                    <a href={boardHref({ page: "community", id: p.communityId })}>{p.name}</a>: <span data-testid={`board-mine-points-${p.communityId}`}>{pointsAmount(p.balance, p.symbol)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </>
  );
}

function TaskHead({ ctx, task }: { ctx: BoardContext; task: BoardTask }) {
  return (
    <>
      <h3 className="card-title">
        <a href={boardHref({ page: "task", id: task.id })}>
          <TaskTitle task={task} />
        </a>
      </h3>
      <p>
        <TaskStateBadge task={task} now={ctx.now} /> <RewardText task={task} tokens={ctx.tokens} communities={ctx.communities} />
      </p>
    </>
  );
}
