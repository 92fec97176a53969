// What the board's and communities' pages share: the state of the transaction an action sent, a
// task's and a claim's state badges, a task's title and reward in its token's units, times and
// countdowns on the chain's clock, and a description rendered as safe markdown (lib/markdown.ts:
// whatever the publisher wrote, HTML included, stays text).
import type { BoardTask, ClaimState } from "../lib/board";
import { boardAmount, formatDuration, pointsAmount, type TokenInfo } from "../lib/boardRules";
import { formatTime } from "../lib/format";
import { renderMarkdown, safeHref } from "../lib/markdown";
import type { Community } from "../lib/community";
import type { BoardTx } from "../hooks/useBoard";
import { isWebSpec, useSpecText } from "../hooks/useBoardData";
import { useI18n } from "../i18n-context";
import { TxHash } from "./TxHash";

export type BoardTokens = Record<string, TokenInfo | undefined>;

/// The app's tokens plus every community's points (no decimals, the community's symbol).
export function withPointsTokens(tokens: Record<string, TokenInfo>, communities: readonly Community[] | null): BoardTokens {
  const out: BoardTokens = { ...tokens };
  for (const c of communities ?? []) out[c.pointsToken.toLowerCase()] = { symbol: c.symbol, decimals: 0 };
  return out;
}

/// The transaction `action` sent, if it is the one `tx` is about.
export function BoardTxStatus({ tx, action }: { tx: BoardTx | null; action: string }) {
  const { t } = useI18n();
  if (!tx || tx.action !== action) return null;
  if (tx.phase === "failed") {
    return (
      <p className="notice notice-error" role="alert" data-testid="board-tx-error">
        {tx.error}
      </p>
    );
  }
  return (
    <p className="status-line" role="status" data-testid="board-tx" data-phase={tx.phase}>
      {t(`fl.tx.${tx.phase}`)}
      {tx.hash && (
        <>
          {" "}
          <TxHash hash={tx.hash} />
        </>
      )}
    </p>
  );
}

export function TaskStateBadge({ task, now }: { task: BoardTask; now: number }) {
  const { t } = useI18n();
  const state = task.state === "cancelled" ? "cancelled" : now >= task.deadline ? "closed" : task.freeSlots > 0 ? "open" : "full";
  const tone = state === "open" ? "ok" : state === "full" ? "info" : "muted";
  return (
    <span className={`badge badge-${tone}`} data-testid="board-task-state" data-state={state}>
      {t(`board.taskState.${state}`)}
    </span>
  );
}

export function ClaimBadge({ state }: { state: ClaimState }) {
  const { t } = useI18n();
  const tone = state === "approved" || state === "resolved" ? "ok" : state === "rejected" || state === "disputed" ? "warn" : state === "submitted" ? "info" : "muted";
  return (
    <span className={`badge badge-${tone}`} data-testid="board-claim-state" data-state={state}>
      {t(`board.claimState.${state}`)}
    </span>
  );
}

/// A task's name: the first line of its description when the page has read it, else `Task #id`.
export function specTitle(text: string | null): string | null {
  if (!text) return null;
  const line = text.split("\n").find((l) => l.trim() !== "");
  if (!line) return null;
  const title = line.replace(/^#{1,6}\s+/, "").trim();
  return title.length > 120 ? `${title.slice(0, 119)}…` : title;
}

export function TaskTitle({ task }: { task: BoardTask }) {
  const { t } = useI18n();
  const spec = useSpecText(isWebSpec(task.spec) ? null : task.spec);
  return <>{specTitle(spec.text) ?? t("board.taskN", { id: task.id })}</>;
}

/// The reward as people compare it: per slot, the slots, and the points each approved worker gets.
export function RewardText({ task, tokens, communities }: { task: BoardTask; tokens: BoardTokens; communities: readonly Community[] | null }) {
  const { t } = useI18n();
  const community = communities?.find((c) => c.id === task.communityId) ?? null;
  return (
    <span data-testid="board-reward">
      {t("board.perSlot", { amount: boardAmount(task.rewardPerSlot, task.token, tokens), slots: task.slots })}
      {task.points !== "0" && (
        <span className="muted"> · {t("board.plusPoints", { points: pointsAmount(task.points, community?.symbol ?? null) })}</span>
      )}
    </span>
  );
}

export function useDuration() {
  const { t } = useI18n();
  return (seconds: number) => formatDuration(seconds, { d: t("board.unit.d"), h: t("board.unit.h"), m: t("board.unit.m"), s: t("board.unit.s") });
}

/// A moment on the chain's clock: the local date and time, and how far it is from now.
export function When({ at, now }: { at: number; now: number }) {
  const { t, lang } = useI18n();
  const duration = useDuration();
  return (
    <span>
      <time dateTime={new Date(at * 1000).toISOString()}>{formatTime(at, lang)}</time>{" "}
      <span className="muted">({at > now ? t("board.inTime", { time: duration(at - now) }) : t("board.agoTime", { time: duration(now - at) })})</span>
    </span>
  );
}

/// A description: fetched from the content store by CID and rendered as markdown, or a link when
/// it is a web address.
export function SpecView({ spec }: { spec: string }) {
  const { t } = useI18n();
  const web = isWebSpec(spec);
  const text = useSpecText(web ? null : spec);
  if (web) {
    const href = safeHref(spec);
    return href ? (
      <a href={href} rel="noopener noreferrer" target="_blank">
        {spec}
      </a>
    ) : (
      <code className="mono wrap">{spec}</code>
    );
  }
  if (text.error) {
    return (
      <p className="notice notice-error" role="alert">
        {t("board.specFailed", { message: text.error })}
      </p>
    );
  }
  if (text.text === null) return <p className="muted">{t("fl.loading")}</p>;
  return (
    <div className="markdown board-spec" data-testid="board-spec">
      {renderMarkdown(text.text)}
    </div>
  );
}
