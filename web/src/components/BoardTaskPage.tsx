// One task (`#/board/task/{id}`): its terms, its description (rendered from its CID as safe
// markdown), the viewer's actions — whatever lib/boardRules.ts `viewerActions` allows for their role
// at the chain's time: accept, submit, revise, dispute as a worker; approve, reject with a reason,
// remove a silent worker, cancel (disabled with the reason once a submission exists), extend the
// deadline as the publisher; approve a lapsed review, close an unanswered rejection, refund as anyone
// once due; resolve a dispute as the arbiter —, the claims with their windows, and the timeline.
import { useEffect, useRef, useState } from "react";
import type { Hex } from "viem";
import { ipfsUrl } from "../lib/api";
import type { BoardTask, BoardTimelineEntry, Claim } from "../lib/board";
import {
  acceptCall,
  approveLapsedCall,
  approveWorkCall,
  cancelTaskCall,
  closeRejectedCall,
  disputeCall,
  extendDeadlineCall,
  refundTaskCall,
  rejectCall,
  removeWorkerCall,
  resolveCall,
  submitCall,
} from "../lib/boardCalls";
import { answerEndsAt, boardAmount, hasAction, pointsAmount, removableAt, reviewEndsAt, viewerActions, type BoardAction } from "../lib/boardRules";
import { boardHref } from "../lib/boardRoute";
import { formatTime, shortAddress } from "../lib/format";
import type { BoardContext } from "../hooks/useBoard";
import { useBoardTask } from "../hooks/useBoardData";
import { useI18n } from "../i18n-context";
import { DeliverableForm, ExtendForm, Opener, ReasonForm, ResolveForm } from "./BoardActions";
import { BoardTxStatus, ClaimBadge, RewardText, SpecView, TaskStateBadge, TaskTitle, useDuration, When } from "./BoardCommon";
import { TxHash } from "./TxHash";
import { WatchToggle } from "./WatchToggle";

export function BoardTaskPage({ ctx, id }: { ctx: BoardContext; id: number }) {
  const { t } = useI18n();
  const view = useBoardTask(id, ctx.live, true);
  const d = view.detail;
  const refundDone = !!d?.timeline.some((e) => e.kind === "refunded");
  const actions = d ? viewerActions(d.task, d.claims, ctx.canAct ? ctx.me : null, ctx.now, ctx.config.answerWindow, refundDone) : [];
  const announcement = useClaimAnnouncement(id, d?.claims ?? null, ctx.me);

  return (
    <article aria-labelledby="board-title" data-testid="board-task-page" data-task={id}>
      <p>
        <a href={boardHref({ page: "mall" })}>← {t("board.back")}</a>
      </p>
      <h1 id="board-title" tabIndex={-1}>
        {d ? <TaskTitle task={d.task} /> : t("board.taskN", { id })}
      </h1>
      <p className="sr-only" role="status" aria-live="polite" data-testid="board-announcer">
        {announcement}
      </p>
      {view.error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: view.error })}
        </p>
      )}
      {!d && !view.error && (
        <p className="muted" role="status">
          {t("fl.loading")}
        </p>
      )}
      {d && (
        <>
          <p>
            <TaskStateBadge task={d.task} now={ctx.now} /> {roleBadge(d.task, ctx.me, t)}{" "}
            <WatchToggle scope={`task:${id}`} signedIn={ctx.signedIn} />
          </p>
          <Terms ctx={ctx} task={d.task} />
          <section className="panel" aria-labelledby="board-spec-title">
            <h2 id="board-spec-title">{t("board.description")}</h2>
            <SpecView spec={d.task.spec} />
          </section>
          <MyActions ctx={ctx} task={d.task} actions={actions} />
          <Claims ctx={ctx} task={d.task} claims={d.claims} actions={actions} />
          <Timeline ctx={ctx} task={d.task} entries={d.timeline} />
        </>
      )}
    </article>
  );
}

/// A sentence for screen readers when a claim on the page changes state live (not on the first read).
function useClaimAnnouncement(id: number, claims: Claim[] | null, me: string | null): string {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const seen = useRef<{ id: number; states: Map<string, string> } | null>(null);
  useEffect(() => {
    if (!claims) return;
    const states = new Map(claims.map((c) => [c.worker, c.state]));
    const before = seen.current?.id === id ? seen.current.states : null;
    seen.current = { id, states };
    if (!before) return;
    const changed = claims.find((c) => before.get(c.worker) !== c.state);
    if (!changed) return;
    const who = changed.worker === me ? t("board.you") : shortAddress(changed.worker);
    setText(t("board.announce", { who, state: t(`board.claimState.${changed.state}`) }));
  }, [id, claims, me, t]);
  return text;
}

function roleBadge(task: BoardTask, me: string | null, t: ReturnType<typeof useI18n>["t"]) {
  if (!me) return null;
  const role = me === task.publisher ? "publisher" : me === task.arbiter ? "arbiter" : null;
  return role ? <span className="badge badge-info">{t(`board.role.${role}`)}</span> : null;
}

function Terms({ ctx, task }: { ctx: BoardContext; task: BoardTask }) {
  const { t } = useI18n();
  const duration = useDuration();
  const community = ctx.communities?.find((c) => c.id === task.communityId) ?? null;
  const platform = task.arbiter === ctx.config.platformArbiter;
  return (
    <dl className="facts board-terms" data-testid="board-terms">
      <div>
        <dt>{t("board.reward")}</dt>
        <dd>
          <RewardText task={task} tokens={ctx.tokens} communities={ctx.communities} />{" "}
          <span className="muted">({t("board.total", { amount: boardAmount(task.reward, task.token, ctx.tokens) })})</span>
        </dd>
      </div>
      <div>
        <dt>{t("board.freeSlots")}</dt>
        <dd data-testid="board-free-slots">{t("board.freeOf", { free: task.freeSlots, slots: task.slots })}</dd>
      </div>
      <div>
        <dt>{t("board.deadline")}</dt>
        <dd data-testid="board-deadline">
          <When at={task.deadline} now={ctx.now} />
        </dd>
      </div>
      <div>
        <dt>{t("board.reviewWindow")}</dt>
        <dd>{duration(task.reviewWindow)}</dd>
      </div>
      <div>
        <dt>{t("board.workTimeout")}</dt>
        <dd>{duration(task.workTimeout)}</dd>
      </div>
      <div>
        <dt>{t("board.maxRevisions")}</dt>
        <dd>{task.maxRevisions}</dd>
      </div>
      <div>
        <dt>{t("board.community")}</dt>
        <dd>{task.communityId === null ? t("board.noCommunity") : <a href={boardHref({ page: "community", id: task.communityId })}>{community?.name ?? t("board.communityN", { id: task.communityId })}</a>}</dd>
      </div>
      <div>
        <dt>{t("board.arbiter")}</dt>
        <dd>
          <span className="mono" title={task.arbiter}>
            {shortAddress(task.arbiter)}
          </span>{" "}
          <span className="muted">{platform ? t("board.arbiter.platform") : t("board.arbiter.community")}</span>
        </dd>
      </div>
      <div>
        <dt>{t("board.publisher")}</dt>
        <dd className="mono" title={task.publisher}>
          {shortAddress(task.publisher)}
        </dd>
      </div>
      {task.refunded !== "0" && (
        <div>
          <dt>{t("board.refunded")}</dt>
          <dd data-testid="board-refunded">{boardAmount(task.refunded, task.token, ctx.tokens)}</dd>
        </div>
      )}
    </dl>
  );
}

/// The viewer's actions on the task itself (their own claim's, the publisher's task-wide, refund).
function MyActions({ ctx, task, actions }: { ctx: BoardContext; task: BoardTask; actions: BoardAction[] }) {
  const { t } = useI18n();
  const { run, busy, tx, fail } = ctx.tx;
  const b = ctx.config.taskBoard;
  const own = actions.filter((a) => ["accept", "submit", "revise", "dispute", "cancel", "extend", "refund"].includes(a.kind));
  if (!ctx.me) {
    return (
      <p className="notice">
        {t("board.connectToAct")}{" "}
        <button type="button" className="btn" onClick={ctx.onConnect}>
          {t("wallet.connect")}
        </button>
      </p>
    );
  }
  const key = (k: string) => `${k}:${task.id}`;
  const KEYS = ["accept", "submit", "dispute", "cancel", "extend", "refund"];
  // The last transaction's outcome stays in view after its button goes (a submission done, the
  // task cancelled).
  if (own.length === 0 && !KEYS.some((k) => tx?.action === key(k))) return null;
  return (
    <section className="panel board-actions" aria-labelledby="board-actions-title" data-testid="board-my-actions">
      <h2 id="board-actions-title">{t("board.yourActions")}</h2>
      <div className="inline-row">
        {own.map((a) => {
          switch (a.kind) {
            case "accept":
              return (
                <button key="accept" type="button" className="btn btn-primary" disabled={busy} onClick={() => void run(key("accept"), acceptCall(b, task.id, BigInt(task.rewardPerSlot), task.deadline))} data-testid="board-accept">
                  {t("board.accept")}
                </button>
              );
            case "submit":
            case "revise":
              return (
                <Opener key="submit" label={a.kind === "submit" ? t("board.submit") : t("board.revise", { left: a.left })} testId={`board-${a.kind}`} disabled={busy}>
                  {(close) => (
                    <DeliverableForm
                      busy={busy}
                      submit={t("board.send")}
                      onFail={(m) => fail(key("submit"), m)}
                      onSend={(cid) => void run(key("submit"), submitCall(b, task.id, cid)).then((r) => r && close())}
                      onCancel={close}
                    />
                  )}
                </Opener>
              );
            case "dispute":
              return (
                <Opener key="dispute" label={t("board.dispute")} testId="board-dispute" disabled={busy}>
                  {(close) => (
                    <ReasonForm label={t("board.disputeReason")} submit={t("board.dispute")} busy={busy} required testId="board-dispute" onCancel={close} onSend={(r) => void run(key("dispute"), disputeCall(b, task.id, r)).then((ok) => ok && close())} />
                  )}
                </Opener>
              );
            case "cancel":
              return (
                <span key="cancel" className="board-cancel">
                  <button
                    type="button"
                    className="btn"
                    disabled={busy || a.blocked !== null}
                    aria-describedby={a.blocked ? `board-cancel-why-${task.id}` : undefined}
                    onClick={() => void run(key("cancel"), cancelTaskCall(b, task.id))}
                    data-testid="board-cancel"
                  >
                    {t("board.cancel")}
                  </button>
                  {a.blocked && (
                    <span id={`board-cancel-why-${task.id}`} className="muted" data-testid="board-cancel-why">
                      {" "}
                      {t("board.cancelBlocked")}
                    </span>
                  )}
                </span>
              );
            case "extend":
              return (
                <Opener key="extend" label={t("board.extendDeadline")} testId="board-extend" disabled={busy}>
                  {(close) => <ExtendForm deadline={task.deadline} busy={busy} onCancel={close} onSend={(dl) => void run(key("extend"), extendDeadlineCall(b, task.id, dl)).then((r) => r && close())} />}
                </Opener>
              );
            case "refund":
              return (
                <button key="refund" type="button" className="btn" disabled={busy} onClick={() => void run(key("refund"), refundTaskCall(b, task.id))} data-testid="board-refund">
                  {t("board.refund", { slots: a.slots })}
                </button>
              );
            default:
              return null;
          }
        })}
      </div>
      {KEYS.map((k) => (
        <BoardTxStatus key={k} tx={tx} action={key(k)} />
      ))}
    </section>
  );
}

function Claims({ ctx, task, claims, actions }: { ctx: BoardContext; task: BoardTask; claims: Claim[]; actions: BoardAction[] }) {
  const { t } = useI18n();
  const community = ctx.communities?.find((c) => c.id === task.communityId) ?? null;
  return (
    <section className="panel" aria-labelledby="board-claims-title" data-testid="board-claims">
      <h2 id="board-claims-title">{t("board.claims")}</h2>
      {claims.length === 0 ? (
        <p className="muted">{t("board.noClaims")}</p>
      ) : (
        <ul className="board-claims">
          {claims.map((c) => (
            <li key={c.worker} className="board-claim" data-testid={`board-claim-${c.worker}`} data-state={c.state}>
              <p>
                <span className="mono" title={c.worker}>
                  {shortAddress(c.worker)}
                </span>{" "}
                {c.worker === ctx.me && <span className="badge badge-info">{t("board.you")}</span>} <ClaimBadge state={c.state} />{" "}
                {c.revisions > 0 && <span className="muted">{t("board.revisions", { n: c.revisions, max: task.maxRevisions })}</span>}
              </p>
              <ClaimFacts ctx={ctx} task={task} claim={c} pointsSymbol={community?.symbol ?? null} />
              <ClaimActions ctx={ctx} task={task} claim={c} actions={actions} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ClaimFacts({ ctx, task, claim: c, pointsSymbol }: { ctx: BoardContext; task: BoardTask; claim: Claim; pointsSymbol: string | null }) {
  const { t } = useI18n();
  return (
    <dl className="facts">
      <div>
        <dt>{t("board.acceptedAt")}</dt>
        <dd>
          <When at={c.acceptedAt} now={ctx.now} />
        </dd>
      </div>
      {c.deliverable && (
        <div>
          <dt>{t("board.deliverable")}</dt>
          <dd>
            <a href={ipfsUrl(c.deliverable)} target="_blank" rel="noopener noreferrer" className="mono wrap" data-testid="board-deliverable-link">
              {c.deliverable}
            </a>
          </dd>
        </div>
      )}
      {c.state === "working" && (
        <div>
          <dt>{t("board.removableAt")}</dt>
          <dd>
            <When at={removableAt(task, c)} now={ctx.now} />
          </dd>
        </div>
      )}
      {c.state === "submitted" && (
        <div>
          <dt>{t("board.reviewEndsAt")}</dt>
          <dd data-testid="board-review-ends">
            <When at={reviewEndsAt(task, c)} now={ctx.now} />
          </dd>
        </div>
      )}
      {c.state === "rejected" && (
        <div>
          <dt>{t("board.answerEndsAt")}</dt>
          <dd>
            <When at={answerEndsAt(c, ctx.config.answerWindow)} now={ctx.now} />
          </dd>
        </div>
      )}
      {c.rejectionReason !== null && (
        <div>
          <dt>{t("board.rejectionReason")}</dt>
          <dd data-testid="board-rejection-reason">{c.rejectionReason || t("board.noReason")}</dd>
        </div>
      )}
      {c.disputeReason !== null && (
        <div>
          <dt>{t("board.disputeReason")}</dt>
          <dd>{c.disputeReason || t("board.noReason")}</dd>
        </div>
      )}
      {c.paid !== "0" && (
        <div>
          <dt>{t("board.paid")}</dt>
          <dd data-testid="board-paid">{boardAmount(c.paid, task.token, ctx.tokens)}</dd>
        </div>
      )}
      {c.pointsMinted !== "0" && (
        <div>
          <dt>{t("board.pointsMinted")}</dt>
          <dd data-testid="board-points-minted">{pointsAmount(c.pointsMinted, pointsSymbol)}</dd>
        </div>
      )}
    </dl>
  );
}

/// The publisher's, anyone's and the arbiter's actions on one claim.
function ClaimActions({ ctx, task, claim: c, actions }: { ctx: BoardContext; task: BoardTask; claim: Claim; actions: BoardAction[] }) {
  const { t } = useI18n();
  const { run, busy, tx } = ctx.tx;
  const b = ctx.config.taskBoard;
  const w = c.worker as Hex;
  const key = (k: string) => `${k}:${task.id}:${w}`;
  const can = (k: BoardAction["kind"]) => hasAction(actions, k, w);
  const KEYS = ["approve", "reject", "remove", "approveLapsed", "closeRejected", "resolve"] as const;
  if (!KEYS.some((k) => can(k)) && !KEYS.some((k) => tx?.action === key(k))) return null;
  return (
    <div className="board-claim-actions">
      <div className="inline-row">
        {can("approve") && (
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void run(key("approve"), approveWorkCall(b, task.id, w))} data-testid="board-approve">
            {t("board.approve")}
          </button>
        )}
        {can("reject") && (
          <Opener label={t("board.reject")} testId="board-reject" disabled={busy}>
            {(close) => <ReasonForm label={t("board.rejectionReason")} submit={t("board.reject")} busy={busy} required testId="board-reject" onCancel={close} onSend={(r) => void run(key("reject"), rejectCall(b, task.id, w, r)).then((ok) => ok && close())} />}
          </Opener>
        )}
        {can("remove") && (
          <button type="button" className="btn" disabled={busy} onClick={() => void run(key("remove"), removeWorkerCall(b, task.id, w))} data-testid="board-remove">
            {t("board.remove")}
          </button>
        )}
        {can("approveLapsed") && (
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void run(key("approveLapsed"), approveLapsedCall(b, task.id, w))} data-testid="board-approve-lapsed">
            {t("board.approveLapsed")}
          </button>
        )}
        {can("closeRejected") && (
          <button type="button" className="btn" disabled={busy} onClick={() => void run(key("closeRejected"), closeRejectedCall(b, task.id, w))} data-testid="board-close-rejected">
            {t("board.closeRejected")}
          </button>
        )}
        {can("resolve") && (
          <Opener label={t("board.resolve")} testId="board-resolve" disabled={busy}>
            {(close) => <ResolveForm rewardPerSlot={BigInt(task.rewardPerSlot)} token={task.token} tokens={ctx.tokens} busy={busy} onCancel={close} onSend={(bps) => void run(key("resolve"), resolveCall(b, task.id, w, bps)).then((r) => r && close())} />}
          </Opener>
        )}
      </div>
      {KEYS.map((k) => (
        <BoardTxStatus key={k} tx={tx} action={key(k)} />
      ))}
    </div>
  );
}

/// A timeline detail as people read it: amounts in the task's token, points with the community's
/// symbol, shares in percent, times as dates, addresses shortened, `true`/`false` as yes/no marks.
function detailValue(k: string, v: string | number | boolean, task: BoardTask, tokens: BoardContext["tokens"], symbol: string | null, lang: string): string {
  if (typeof v === "boolean") return v ? "✓" : "✗";
  if (typeof v === "string" && /^[0-9]+$/.test(v)) {
    if (k === "points") return pointsAmount(v, symbol);
    if (["amount", "refunded", "toWorker", "toPublisher", "reward", "rewardPerSlot"].includes(k)) return boardAmount(v, task.token, tokens);
  }
  if (typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v)) return shortAddress(v);
  if (typeof v === "number" && k === "workerBps") return `${v / 100}%`;
  if (typeof v === "number" && /At$|^deadline$/.test(k)) return formatTime(v, lang);
  return String(v);
}

function Timeline({ ctx, task, entries }: { ctx: BoardContext; task: BoardTask; entries: BoardTimelineEntry[] }) {
  const { t, tOr, lang } = useI18n();
  const symbol = ctx.communities?.find((c) => c.id === task.communityId)?.symbol ?? null;
  const detailText = (e: BoardTimelineEntry) =>
    Object.entries(e.detail)
      .map(([k, v]) => `${tOr(`board.detail.${k}`, k)}: ${detailValue(k, v, task, ctx.tokens, symbol, lang)}`)
      .join(" · ");
  return (
    <section className="panel" aria-labelledby="board-timeline-title" data-testid="board-timeline">
      <h2 id="board-timeline-title">{t("board.timeline")}</h2>
      <ol className="board-timeline">
        {entries.map((e, i) => (
          <li key={`${e.tx}-${i}`} data-kind={e.kind}>
            <strong>{tOr(`board.event.${e.kind}`, e.kind)}</strong>
            {e.worker && (
              <>
                {" "}
                <span className="mono" title={e.worker}>
                  {shortAddress(e.worker)}
                </span>
              </>
            )}{" "}
            <When at={e.at} now={ctx.now} /> <TxHash hash={e.tx} />
            {Object.keys(e.detail).length > 0 && <div className="muted wrap">{detailText(e)}</div>}
          </li>
        ))}
      </ol>
    </section>
  );
}
