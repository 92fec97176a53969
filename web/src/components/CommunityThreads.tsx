// A community's threads on its page: pinned first then newest, a page at a time; a thread opens in
// place with its replies (markdown rendered safely; a deleted post shows as a tombstone, a hidden
// one is marked for the moderators who still see it); members who signed in (SIWE) start threads
// and reply, unless the thread is locked. Members report posts and moderators act on them
// (PostModeration.tsx); moderators also get the queue and the log (ModerationQueue.tsx).
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { ApiError } from "../lib/api";
import { threadsApi, postProblem, type Post, type ThreadList, type ThreadPage } from "../lib/communityThreads";
import { shortAddress } from "../lib/format";
import { renderMarkdown } from "../lib/markdown";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import { When } from "./BoardCommon";
import { ModerationPanel } from "./ModerationQueue";
import { PostModeration } from "./PostModeration";

const PAGE = 20;

interface Props {
  communityId: number;
  version: number;
  now: number;
  /// A wallet is connected (signing in needs one).
  connected: boolean;
  signedIn: boolean;
  authBusy: boolean;
  onSignIn(): void;
  /// The viewer's address in lower case (nobody reports their own post).
  me?: string | null;
}

export function CommunityThreads(p: Props) {
  const { t } = useI18n();
  const [offset, setOffset] = useState(0);
  const [list, setList] = useState<ThreadList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const reload = useCallback(async () => {
    try {
      setList(await threadsApi.list(p.communityId, PAGE, offset));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [p.communityId, offset]);
  useEffect(() => {
    void reload();
  }, [reload, p.version, p.signedIn]);

  return (
    <section className="panel" aria-labelledby="community-threads-title" data-testid="community-threads">
      <h2 id="community-threads-title">{t("community.threads")}</h2>
      {error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: error })}
        </p>
      )}
      {list && (list.canPost || !p.signedIn) && <NewThread {...p} canPost={list.canPost} onPosted={(post) => { setOffset(0); setOpen(post.id); void reload(); }} />}
      {list && list.threads.length === 0 && <p className="muted">{t("community.noThreads")}</p>}
      {list && list.threads.length > 0 && (
        <ul className="board-threads">
          {list.threads.map((th) => (
            <li key={th.id} className="board-thread" data-testid={`community-thread-${th.id}`}>
              <button type="button" className="link-button" aria-expanded={open === th.id} onClick={() => setOpen((o) => (o === th.id ? null : th.id))}>
                {th.deleted ? t("community.deleted") : th.title}
              </button>{" "}
              {th.pinned && <span className="badge badge-info">{t("community.pinned")}</span>} {th.locked && <span className="badge badge-muted">{t("community.locked")}</span>}{" "}
              {th.hidden && <span className="badge badge-warn">{t("community.hidden")}</span>}
              <p className="muted">
                {th.authorName ?? shortAddress(th.author)} · <When at={th.createdAt} now={p.now} /> · {t("community.replies", { n: th.replies })}
              </p>
              <PostModeration post={th} member={p.signedIn && list.canPost} canModerate={list.canModerate} me={p.me ?? null} onChanged={() => void reload()} />
              {open === th.id && <Thread {...p} threadId={th.id} member={p.signedIn && list.canPost} onListChanged={() => void reload()} />}
            </li>
          ))}
        </ul>
      )}
      {list && (offset > 0 || list.nextOffset !== null) && (
        <nav className="inline-row board-pager" aria-label={t("board.pages")}>
          <button type="button" className="btn" disabled={offset === 0} onClick={() => setOffset((o) => Math.max(0, o - PAGE))}>
            {t("board.prev")}
          </button>
          <button type="button" className="btn" disabled={list.nextOffset === null} onClick={() => list.nextOffset !== null && setOffset(list.nextOffset)}>
            {t("board.next")}
          </button>
        </nav>
      )}
      {list?.canModerate && <ModerationPanel communityId={p.communityId} version={p.version} now={p.now} onChanged={() => void reload()} />}
    </section>
  );
}

function PostBody({ post }: { post: Post }) {
  const { t } = useI18n();
  if (post.deleted || post.body === null) return <p className="muted">{t("community.deleted")}</p>;
  return <div className="markdown board-spec">{renderMarkdown(post.body)}</div>;
}

function Thread(p: Props & { threadId: number; member: boolean; onListChanged(): void }) {
  const { t } = useI18n();
  const [page, setPage] = useState<ThreadPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [more, setMore] = useState<Post[]>([]);
  const reload = useCallback(async () => {
    try {
      setPage(await threadsApi.page(p.threadId, 100, 0));
      setMore([]);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [p.threadId]);
  useEffect(() => {
    void reload();
  }, [reload, p.version, p.signedIn]);
  if (error) {
    return (
      <p className="notice notice-error" role="alert">
        {t("error.load", { message: error })}
      </p>
    );
  }
  if (!page) return <p className="muted">{t("fl.loading")}</p>;
  const replies = [...page.replies, ...more];
  const changed = () => {
    void reload();
    p.onListChanged();
  };
  return (
    <div className="board-thread-page">
      <PostBody post={page.thread} />
      <ol className="board-replies">
        {replies.map((r) => (
          <li key={r.id} data-testid={`community-reply-${r.id}`}>
            <p className="muted">
              {r.authorName ?? shortAddress(r.author)} · <When at={r.createdAt} now={p.now} /> {r.hidden && <span className="badge badge-warn">{t("community.hidden")}</span>}
            </p>
            <PostBody post={r} />
            <PostModeration post={r} member={p.member} canModerate={page.canModerate} me={p.me ?? null} onChanged={changed} />
          </li>
        ))}
      </ol>
      {page.nextOffset !== null && (
        <button
          type="button"
          className="btn"
          onClick={() =>
            void threadsApi.page(p.threadId, 100, page.replies.length + more.length).then(
              (next) => setMore((m) => [...m, ...next.replies]),
              (e: unknown) => setError(errorText(e)),
            )
          }
        >
          {t("community.moreReplies")}
        </button>
      )}
      {page.thread.locked ? <p className="muted">{t("community.lockedHint")}</p> : page.canReply && <Reply {...p} onPosted={() => void reload()} />}
    </div>
  );
}

function writeError(e: unknown, t: ReturnType<typeof useI18n>["t"]): string {
  if (e instanceof ApiError && e.status === 401) return t("community.signInToPost");
  if (e instanceof ApiError && e.code === "not_member") return t("community.joinToPost");
  return errorText(e);
}

function NewThread(p: Props & { canPost: boolean; onPosted(post: Post): void }) {
  const { t } = useI18n();
  const id = useId();
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!p.signedIn) {
    if (!p.connected) return null;
    return (
      <p className="notice">
        {t("community.signInToPost")}{" "}
        <button type="button" className="btn" onClick={p.onSignIn} disabled={p.authBusy}>
          {t("auth.signIn")}
        </button>
      </p>
    );
  }
  if (!p.canPost) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = postProblem(title, body);
    if (problem) return setError(t(`community.problem.post.${problem}`));
    setBusy(true);
    try {
      const post = await threadsApi.create(p.communityId, title, body);
      setTitle("");
      setBody("");
      setError(null);
      p.onPosted(post);
    } catch (err) {
      setError(writeError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="board-new-thread">
      <summary>{t("community.newThread")}</summary>
      <form className="create-form" onSubmit={(e) => void submit(e)}>
        <label htmlFor={`${id}-title`}>{t("community.threadTitle")}</label>
        <input id={`${id}-title`} value={title} maxLength={120} onChange={(e) => setTitle(e.target.value)} data-testid="community-thread-title" />
        <label htmlFor={`${id}-body`}>{t("community.threadBody")}</label>
        <textarea id={`${id}-body`} rows={5} value={body} onChange={(e) => setBody(e.target.value)} data-testid="community-thread-body" />
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="community-thread-submit">
          {t("community.post")}
        </button>
      </form>
    </details>
  );
}

function Reply(p: Props & { threadId: number; onPosted(): void }) {
  const { t } = useI18n();
  const id = useId();
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!p.signedIn) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (postProblem(null, body)) return setError(t("community.problem.post.body"));
    setBusy(true);
    try {
      await threadsApi.reply(p.threadId, body);
      setBody("");
      setError(null);
      p.onPosted();
    } catch (err) {
      setError(writeError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="create-form" onSubmit={(e) => void submit(e)}>
      <label htmlFor={`${id}-reply`}>{t("community.reply")}</label>
      <textarea id={`${id}-reply`} rows={3} value={body} onChange={(e) => setBody(e.target.value)} data-testid="community-reply-body" />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="btn" disabled={busy} data-testid="community-reply-submit">
        {t("community.post")}
      </button>
    </form>
  );
}
