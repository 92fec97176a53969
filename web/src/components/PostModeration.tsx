// What a reader can do about one post in a community's threads: a member reports it once, with a
// reason (then it shows "reported"; the node answers `already_reported` to a second try, shown the
// same way); a moderator (the community's owner and admins, the node's admins — the node says so in
// `canModerate`) hides or unhides it and, for a thread, locks or unlocks and pins or unpins it,
// giving the reason the moderation log keeps.
import { useId, useState, type FormEvent } from "react";
import "../social.css";
import { ApiError } from "../lib/api";
import type { Post } from "../lib/communityThreads";
import { actionsFor, moderationApi, moderationErrorKey, reasonOk, type ModerationAction } from "../lib/moderation";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";

interface Props {
  post: Post;
  /// The viewer is a signed-in member (may report).
  member: boolean;
  canModerate: boolean;
  /// The viewer's address, lower case: nobody reports their own post.
  me: string | null;
  onChanged(post: Post | null): void;
}

/// A refusal in a sentence: the page's own text for the node's known codes.
export function useModerationError() {
  const { tOr } = useI18n();
  return (e: unknown) => {
    const key = moderationErrorKey(e);
    return key ? tOr(key, errorText(e)) : errorText(e);
  };
}

export function PostModeration({ post, member, canModerate, me, onChanged }: Props) {
  const { t } = useI18n();
  const id = useId();
  const failText = useModerationError();
  const [mode, setMode] = useState<"report" | "moderate" | null>(null);
  const [reason, setReason] = useState("");
  const [reported, setReported] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const canReport = member && !post.deleted && post.author !== me;
  const actions = canModerate ? actionsFor(post) : [];
  if (!canReport && actions.length === 0) return null;

  const report = async (e: FormEvent) => {
    e.preventDefault();
    if (!reasonOk(reason)) return setError(t("moderation.reasonProblem"));
    setBusy(true);
    try {
      await moderationApi.report(post.id, reason);
      setReported(true);
      setMode(null);
      setReason("");
      setError(null);
    } catch (err) {
      if (err instanceof ApiError && err.code === "already_reported") {
        setReported(true);
        setMode(null);
      } else setError(failText(err));
    } finally {
      setBusy(false);
    }
  };
  const act = async (action: ModerationAction) => {
    if (!reasonOk(reason)) return setError(t("moderation.reasonProblem"));
    setBusy(true);
    try {
      const r = await moderationApi.act(post.id, action, reason);
      setReason("");
      setMode(null);
      setError(null);
      onChanged(r.post);
    } catch (err) {
      setError(failText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="post-moderation" data-testid={`post-moderation-${post.id}`}>
      <div className="inline-row">
        {canReport &&
          (reported ? (
            <span className="badge badge-muted" data-testid="post-reported">
              {t("moderation.reported")}
            </span>
          ) : (
            <button type="button" className="link-button" aria-expanded={mode === "report"} onClick={() => setMode((m) => (m === "report" ? null : "report"))} data-testid="post-report">
              {t("moderation.report")}
            </button>
          ))}
        {actions.length > 0 && (
          <button type="button" className="link-button" aria-expanded={mode === "moderate"} onClick={() => setMode((m) => (m === "moderate" ? null : "moderate"))} data-testid="post-moderate">
            {t("moderation.moderate")}
          </button>
        )}
      </div>
      {mode !== null && (
        <form className="create-form" onSubmit={(e) => (mode === "report" ? void report(e) : e.preventDefault())}>
          <label htmlFor={`${id}-reason`}>{mode === "report" ? t("moderation.reportReason") : t("moderation.actionReason")}</label>
          <input id={`${id}-reason`} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} data-testid="moderation-reason" />
          <div className="inline-row">
            {mode === "report" ? (
              <button type="submit" className="btn" disabled={busy || !reasonOk(reason)} data-testid="post-report-submit">
                {t("moderation.reportSubmit")}
              </button>
            ) : (
              actions.map((a) => (
                <button key={a} type="button" className="btn" disabled={busy || !reasonOk(reason)} onClick={() => void act(a)} data-testid={`post-action-${a}`}>
                  {t(`moderation.action.${a}`)}
                </button>
              ))
            )}
          </div>
        </form>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
