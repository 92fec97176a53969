// What I hold on the community task market, in the profile page beside my other assets: the tasks I
// published (with their state and claims), the tasks I took with my claim's state, and my points in
// each community — from `/api/accounts/{me}/board`, with links to the pages where I act on them.
import { useEffect, useState } from "react";
import "../board.css";
import { boardApi, type AccountBoard } from "../lib/board";
import { pointsAmount } from "../lib/boardRules";
import { boardHref } from "../lib/boardRoute";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import { ClaimBadge, TaskTitle } from "./BoardCommon";

export function BoardHoldings({ address }: { address: string }) {
  const { t } = useI18n();
  const [board, setBoard] = useState<AccountBoard | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    setBoard(null);
    boardApi.account(address).then(
      (b) => !cancelled && setBoard(b),
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [address]);

  return (
    <section className="panel" aria-labelledby="me-board-title" data-testid="me-board">
      <h2 id="me-board-title">{t("me.board.title")}</h2>
      {error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: error })}
        </p>
      )}
      {!board && !error && <p className="muted">{t("fl.loading")}</p>}
      {board && (
        <>
          <h3>{t("me.board.published")}</h3>
          {board.published.length === 0 ? (
            <p className="muted">{t("me.none")}</p>
          ) : (
            <ul data-testid="me-board-published">
              {board.published.map((task) => (
                <li key={task.id}>
                  <a href={boardHref({ page: "task", id: task.id })}>
                    <TaskTitle task={task} />
                  </a>{" "}
                  <span className="muted">
                    {t(`board.taskState.${task.state === "cancelled" ? "cancelled" : "open"}`)} · {t("me.board.claims", { taken: task.slots - task.freeSlots, slots: task.slots })}
                  </span>{" "}
                  {task.counts.disputed > 0 && <span className="badge badge-warn">{t("me.board.disputed", { n: task.counts.disputed })}</span>}
                </li>
              ))}
            </ul>
          )}
          <h3>{t("me.board.taken")}</h3>
          {board.working.length === 0 ? (
            <p className="muted">{t("me.none")}</p>
          ) : (
            <ul data-testid="me-board-taken">
              {board.working.map(({ task, claim }) => (
                <li key={task.id}>
                  <a href={boardHref({ page: "task", id: task.id })}>
                    <TaskTitle task={task} />
                  </a>{" "}
                  <ClaimBadge state={claim.state} />
                </li>
              ))}
            </ul>
          )}
          <h3>{t("me.board.points")}</h3>
          {board.points.length === 0 ? (
            <p className="muted">{t("me.none")}</p>
          ) : (
            <ul data-testid="me-board-points">
              {board.points.map((p) => (
                <li key={p.communityId}>
                  <a href={boardHref({ page: "community", id: p.communityId })}>{p.name}</a>: {pointsAmount(p.balance, p.symbol)}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
