// A community's moderation panel for its moderators (CommunityThreads shows it when the node says
// `canModerate`): the posts with open reports, the longest waiting first, each with its reports'
// reasons and two ways out — hide it (hidden, then its reports resolved) or dismiss the reports
// (resolved, the post left as it is) — and the moderation log, newest first. The node's admins see
// every community's queue in the admin page through the same list (`QueueList`). Reports reach no
// event stream: the panel re-reads with the board's live signal and on "Reload".
import { useCallback, useEffect, useId, useState } from "react";
import "../social.css";
import { ApiError } from "../lib/api";
import { shortAddress } from "../lib/format";
import { moderationApi, reasonOk, type LogEntry, type QueueItem } from "../lib/moderation";
import { boardHref } from "../lib/boardRoute";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import { When } from "./BoardCommon";
import { useModerationError } from "./PostModeration";

export function ModerationPanel({ communityId, version, now, onChanged }: { communityId: number; version: number; now: number; onChanged(): void }) {
  const { t, tOr } = useI18n();
  const [queue, setQueue] = useState<QueueItem[] | null>(null);
  const [log, setLog] = useState<LogEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      const [q, l] = await Promise.all([moderationApi.queue(communityId), moderationApi.log(communityId, 20)]);
      setQueue(q);
      setLog(l);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [communityId]);
  useEffect(() => {
    void reload();
  }, [reload, version]);
  const changed = () => {
    void reload();
    onChanged();
  };
  return (
    <section className="panel" aria-labelledby="moderation-title" data-testid="moderation-panel">
      <h2 id="moderation-title">{t("moderation.title")}</h2>
      {error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: error })}
        </p>
      )}
      <div className="inline-row">
        <h3>{t("moderation.queue")}</h3>
        <button type="button" className="btn" onClick={() => void reload()} data-testid="moderation-reload">
          {t("admin.reload")}
        </button>
      </div>
      {queue && <QueueList items={queue} now={now} onChanged={changed} />}
      <h3>{t("moderation.log")}</h3>
      {log.length === 0 ? (
        <p className="muted">{t("moderation.noLog")}</p>
      ) : (
        <ol className="moderation-log" data-testid="moderation-log">
          {log.map((e) => (
            <li key={e.seq}>
              <When at={e.at} now={now} /> · <span className="mono">{shortAddress(e.actor)}</span> · {t("moderation.logLine", { action: tOr(`moderation.action.${e.action}`, e.action), post: e.postId })} — <q>{e.reason}</q>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/// Posts with open reports and what a moderator does about each.
export function QueueList({ items, now, onChanged, showCommunity = false }: { items: QueueItem[]; now: number; onChanged(): void; showCommunity?: boolean }) {
  const { t } = useI18n();
  if (items.length === 0) return <p className="muted">{t("moderation.queueEmpty")}</p>;
  return (
    <ul className="moderation-queue" data-testid="moderation-queue">
      {items.map((item) => (
        <QueueRow key={item.post.id} item={item} now={now} onChanged={onChanged} showCommunity={showCommunity} />
      ))}
    </ul>
  );
}

function QueueRow({ item, now, onChanged, showCommunity }: { item: QueueItem; now: number; onChanged(): void; showCommunity: boolean }) {
  const { t } = useI18n();
  const id = useId();
  const failText = useModerationError();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { post, reports } = item;
  const run = async (hide: boolean) => {
    if (!reasonOk(reason)) return setError(t("moderation.reasonProblem"));
    setBusy(true);
    try {
      if (hide && !post.hidden) {
        try {
          await moderationApi.act(post.id, "hide", reason);
        } catch (e) {
          // Hidden meanwhile by another moderator: its reports are still to resolve.
          if (!(e instanceof ApiError && e.code === "no_change")) throw e;
        }
      }
      await moderationApi.resolve(post.id, hide ? t("moderation.resolvedHidden", { reason: reason.trim() }) : reason);
      setError(null);
      onChanged();
    } catch (e) {
      setError(failText(e));
    } finally {
      setBusy(false);
    }
  };
  const text = post.deleted || post.body === null ? t("community.deleted") : post.body.length > 200 ? `${post.body.slice(0, 199)}…` : post.body;
  return (
    <li className="moderation-item" data-testid={`queue-post-${post.id}`}>
      <p>
        <strong>{post.title ?? t("moderation.replyIn", { thread: post.threadId })}</strong>{" "}
        {post.hidden && <span className="badge badge-warn">{t("community.hidden")}</span>}{" "}
        <span className="muted">
          {post.authorName ?? shortAddress(post.author)} · <When at={post.createdAt} now={now} />
          {showCommunity && (
            <>
              {" · "}
              <a href={boardHref({ page: "community", id: post.communityId })}>{t("prefs.communityN", { id: post.communityId })}</a>
            </>
          )}
        </span>
      </p>
      <blockquote className="moderation-text wrap">{text}</blockquote>
      <ul className="moderation-reports">
        {reports.map((r) => (
          <li key={r.reporter}>
            <span className="mono">{shortAddress(r.reporter)}</span>: <q>{r.reason}</q>
          </li>
        ))}
      </ul>
      <div className="inline-row">
        <label htmlFor={`${id}-reason`}>{t("moderation.resolution")}</label>
        <input id={`${id}-reason`} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} data-testid="queue-reason" />
        <button type="button" className="btn" disabled={busy || !reasonOk(reason)} onClick={() => void run(true)} data-testid="queue-hide">
          {t("moderation.hideResolve")}
        </button>
        <button type="button" className="btn" disabled={busy || !reasonOk(reason)} onClick={() => void run(false)} data-testid="queue-dismiss">
          {t("moderation.dismiss")}
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
