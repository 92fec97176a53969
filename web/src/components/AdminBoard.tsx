// The admin page's community-market tabs (node admins; the node answers 403 to anyone else): Posts —
// every community's moderation queue, each post hidden or its reports dismissed; Tasks — the board's
// tasks, those with a dispute waiting first, filtered by state, each linking to its page where the
// arbiter decides; Communities — each with its members, points token and owner.
import { useCallback, useEffect, useId, useState } from "react";
import "../board.css";
import "../social.css";
import { disputedFirst, activeClaims } from "../lib/adminBoard";
import { boardApi, TASK_STATES, type BoardTask, type BoardTaskState } from "../lib/board";
import { boardHref } from "../lib/boardRoute";
import { communityApi, type Community } from "../lib/community";
import { shortAddress } from "../lib/format";
import { moderationApi, type QueueItem } from "../lib/moderation";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import { QueueList } from "./ModerationQueue";

export const ADMIN_BOARD_TABS = ["posts", "tasks", "communities"] as const;
export type AdminBoardTab = (typeof ADMIN_BOARD_TABS)[number];

const nowSecs = () => Math.floor(Date.now() / 1000);

/// Reads `load` at first and on `reload()`; the answer, or the error's text.
function useLoad<T>(load: () => Promise<T>) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setValue(await load());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [load]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { value, error, reload };
}

function Failed({ error }: { error: string | null }) {
  const { t } = useI18n();
  return error ? (
    <p className="notice notice-error" role="alert">
      {t("admin.failed", { message: error })}
    </p>
  ) : null;
}

export function AdminBoard({ tab }: { tab: AdminBoardTab }) {
  if (tab === "posts") return <AdminPosts />;
  if (tab === "tasks") return <AdminTasks />;
  return <AdminCommunities />;
}

function AdminPosts() {
  const { t } = useI18n();
  const load = useCallback(() => moderationApi.adminQueue(100), []);
  const q = useLoad<QueueItem[]>(load);
  return (
    <section className="section" aria-labelledby="admin-posts" data-testid="admin-posts">
      <h2 id="admin-posts">{t("admin.posts")}</h2>
      <p className="hint">{t("admin.postsLead")}</p>
      <Failed error={q.error} />
      {q.value && <QueueList items={q.value} now={nowSecs()} onChanged={() => void q.reload()} showCommunity />}
    </section>
  );
}

function AdminTasks() {
  const { t } = useI18n();
  const id = useId();
  const [state, setState] = useState<BoardTaskState | "">("");
  const load = useCallback(() => boardApi.tasks({ state: state || null, limit: 100 }), [state]);
  const q = useLoad<BoardTask[]>(load);
  const tasks = q.value ? disputedFirst(q.value) : null;
  return (
    <section className="section" aria-labelledby="admin-tasks" data-testid="admin-tasks">
      <h2 id="admin-tasks">{t("admin.tasks")}</h2>
      <p className="hint">{t("admin.tasksLead")}</p>
      <div className="inline-row">
        <label htmlFor={`${id}-state`}>{t("admin.tasksState")}</label>
        <select id={`${id}-state`} value={state} onChange={(e) => setState(e.target.value as BoardTaskState | "")}>
          <option value="">{t("admin.tasksAll")}</option>
          {TASK_STATES.map((s) => (
            <option key={s} value={s}>
              {t(`board.taskState.${s}`)}
            </option>
          ))}
        </select>
      </div>
      <Failed error={q.error} />
      {tasks && tasks.length === 0 && <p className="muted">{t("board.none")}</p>}
      {tasks && tasks.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="admin-tasks">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t("admin.col.task")}</th>
                <th scope="col">{t("admin.col.publisher")}</th>
                <th scope="col">{t("admin.col.status")}</th>
                <th scope="col">{t("admin.col.claims")}</th>
                <th scope="col">{t("board.arbiter")}</th>
              </tr>
            </thead>
            <tbody>
              {tasks.map((task) => (
                <tr key={task.id} data-testid={`admin-task-${task.id}`}>
                  <td>
                    <a href={boardHref({ page: "task", id: task.id })}>{t("board.taskN", { id: task.id })}</a>
                  </td>
                  <td className="mono" title={task.publisher}>
                    {shortAddress(task.publisher)}
                  </td>
                  <td>{t(`board.taskState.${task.state}`)}</td>
                  <td>
                    {t("admin.claimsActive", { n: activeClaims(task) })}{" "}
                    {task.counts.disputed > 0 && <span className="badge badge-warn">{t("me.board.disputed", { n: task.counts.disputed })}</span>}
                  </td>
                  <td className="mono" title={task.arbiter}>
                    {shortAddress(task.arbiter)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function AdminCommunities() {
  const { t } = useI18n();
  const load = useCallback(() => communityApi.list(100, 0), []);
  const q = useLoad<Community[]>(load);
  return (
    <section className="section" aria-labelledby="admin-communities" data-testid="admin-communities">
      <h2 id="admin-communities">{t("admin.communities")}</h2>
      <Failed error={q.error} />
      {q.value && q.value.length === 0 && <p className="muted">{t("community.none")}</p>}
      {q.value && q.value.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="admin-communities">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t("community.name")}</th>
                <th scope="col">{t("community.membersLabel")}</th>
                <th scope="col">{t("community.pointsToken")}</th>
                <th scope="col">{t("community.owner")}</th>
              </tr>
            </thead>
            <tbody>
              {q.value.map((c) => (
                <tr key={c.id}>
                  <td>
                    <a href={boardHref({ page: "community", id: c.id })}>{c.name}</a>
                  </td>
                  <td>{c.memberCount}</td>
                  <td>
                    {c.symbol}{" "}
                    <span className="mono muted" title={c.pointsToken}>
                      {shortAddress(c.pointsToken)}
                    </span>
                  </td>
                  <td className="mono" title={c.owner}>
                    {shortAddress(c.owner)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
