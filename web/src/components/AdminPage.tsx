// The admin page (`/api/admin/*`; the node decides who is an admin and answers 403 to anyone
// else): users (disable / enable), channels (settle now) and the background jobs — run now, pause
// or resume, and each run's log. Amounts are shown in the channel's token (symbol and decimals),
// and "settle now" shows its outcome beside the channel: settled, or the node's reason. Tabs beside
// them hold the community market's back office (AdminBoard.tsx: posts, tasks, communities).
import { lazy, Suspense, useState, type ReactNode } from "react";
import type { NetworkInfo } from "../lib/api";
import { formatTime, formatTokenAmount, shortAddress, shortHash } from "../lib/format";
import type { AdminChannel, AdminJob, SettleOutcome } from "../lib/assistant";
import type { Tokens } from "../lib/services";
import { useAdmin } from "../hooks/useAdmin";
import { ETH_TOKEN } from "../lib/abi";
import { useI18n } from "../i18n-context";
import type { AdminBoardTab } from "./AdminBoard";

// The community market's tabs load when first opened (with the board's and moderation's modules).
const AdminBoard = lazy(() => import("./AdminBoard").then((m) => ({ default: m.AdminBoard })));
const TABS = ["assistant", "posts", "tasks", "communities"] as const satisfies readonly ("assistant" | AdminBoardTab)[];

interface Props {
  signedIn: boolean;
  address: string | null;
  net: NetworkInfo | null;
  /// Symbol and decimals of the tokens the page already read.
  tokens: Tokens;
}

export function AdminPage({ signedIn, address, net, tokens }: Props) {
  const { t, lang } = useI18n();
  const a = useAdmin(signedIn, address, net, tokens);
  const time = (s: number) => formatTime(s, lang);
  const tokenOf = (c: AdminChannel) => a.tokens[(c.token ?? ETH_TOKEN).toLowerCase()];
  /// An amount in the channel's token; in the smallest unit (said below the table) until it is read.
  const amount = (c: AdminChannel, v: string) => formatTokenAmount(v, tokenOf(c)) ?? v;
  const someUnread = a.channels.some((c) => !tokenOf(c));
  const [tab, setTab] = useState<(typeof TABS)[number]>("assistant");
  /// Bumped by "Reload": the community market's tabs read everything again.
  const [reloads, setReloads] = useState(0);

  let body: ReactNode;
  if (a.access === "signedOut") body = <p className="notice">{t("admin.signIn")}</p>;
  else if (a.access === "forbidden")
    body = (
      <p className="notice notice-error" role="alert" data-testid="admin-forbidden">
        {t("admin.forbidden")}
      </p>
    );
  else if (a.access === "loading")
    body = (
      <p className="muted" role="status">
        {t("admin.loading")}
      </p>
    );
  else if (a.access === "error") body = null;
  else if (tab !== "assistant")
    body = (
      <Suspense fallback={<p className="muted" role="status">{t("admin.loading")}</p>}>
        <AdminBoard key={reloads} tab={tab} />
      </Suspense>
    );
  else
    body = (
      <>
        <section className="section" aria-labelledby="admin-users">
          <h2 id="admin-users">{t("admin.users")}</h2>
          {a.users.length === 0 ? (
            <p className="muted">{t("admin.noUsers")}</p>
          ) : (
            <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="admin-users">
              <table className="table" data-testid="admin-users">
                <thead>
                  <tr>
                    <th scope="col">{t("admin.col.address")}</th>
                    <th scope="col">{t("admin.col.firstSeen")}</th>
                    <th scope="col">{t("admin.col.replies")}</th>
                    <th scope="col">{t("admin.col.tokens")}</th>
                    <th scope="col">{t("admin.col.status")}</th>
                    <th scope="col">
                      <span className="sr-only">{t("admin.col.actions")}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {a.users.map((u) => (
                    <tr key={u.address}>
                      <td className="mono" title={u.address}>
                        {shortAddress(u.address)}
                      </td>
                      <td>{time(u.firstSeen)}</td>
                      <td>{u.replies}</td>
                      <td>{u.completionTokens.toLocaleString()}</td>
                      <td>
                        <span className={`badge ${u.disabled ? "badge-bad" : "badge-ok"}`}>
                          {u.disabled ? t("admin.disabled") : t("admin.enabled")}
                        </span>
                      </td>
                      <td>
                        <button
                          type="button"
                          className="btn"
                          disabled={a.busy !== null}
                          onClick={() => void a.setUserDisabled(u.address, !u.disabled)}
                          aria-label={t(u.disabled ? "admin.enableNamed" : "admin.disableNamed", { address: u.address })}
                        >
                          {u.disabled ? t("admin.enable") : t("admin.disable")}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>

        <section className="section" aria-labelledby="admin-channels">
          <h2 id="admin-channels">{t("admin.channels")}</h2>
          {a.channels.length === 0 ? (
            <p className="muted">{t("admin.noChannels")}</p>
          ) : (
            <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="admin-channels">
              <table className="table" data-testid="admin-channels">
                <thead>
                  <tr>
                    <th scope="col">{t("admin.col.channel")}</th>
                    <th scope="col">{t("admin.col.payer")}</th>
                    <th scope="col">{t("channel.deposit")}</th>
                    <th scope="col">{t("channel.billed")}</th>
                    <th scope="col">{t("admin.col.accepted")}</th>
                    <th scope="col">{t("channel.expiry")}</th>
                    <th scope="col">{t("channel.state")}</th>
                    <th scope="col">
                      <span className="sr-only">{t("admin.col.actions")}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {a.channels.map((c) => (
                    <tr key={c.channelId}>
                      <td className="mono" title={c.channelId}>
                        {shortHash(c.channelId)}
                      </td>
                      <td className="mono" title={c.payer}>
                        {shortAddress(c.payer)}
                      </td>
                      <td data-testid="admin-deposit">{amount(c, c.deposit)}</td>
                      <td data-testid="admin-billed">{amount(c, c.billed)}</td>
                      <td data-testid="admin-accepted">{amount(c, c.accepted)}</td>
                      <td>{c.expiry !== undefined ? time(c.expiry) : "—"}</td>
                      <td>{c.state ?? "—"}</td>
                      <td>
                        <button
                          type="button"
                          className="btn"
                          disabled={a.busy !== null || (c.state !== undefined && c.state !== "Open")}
                          onClick={() => void a.settle(c.channelId)}
                          aria-label={t("admin.settleNamed", { id: c.channelId })}
                        >
                          {a.busy === `settle:${c.channelId}` ? t("admin.working") : t("admin.settle")}
                        </button>
                        <SettleResult outcome={a.settled[c.channelId.toLowerCase()]} id={c.channelId} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {someUnread && <p className="hint">{t("admin.amountsHint")}</p>}
        </section>

        <section className="section" aria-labelledby="admin-jobs">
          <h2 id="admin-jobs">{t("admin.jobs")}</h2>
          <ul className="cards" data-testid="admin-jobs">
            {a.jobs.map((j) => (
              <JobCard key={j.name} job={j} busy={a.busy} onAction={(action) => void a.job(j.name, action)} />
            ))}
          </ul>
        </section>
      </>
    );

  return (
    <section className="section admin" aria-labelledby="admin-title">
      <div className="section-head">
        <h1 id="admin-title" tabIndex={-1}>
          {t("admin.title")}
        </h1>
        {a.access === "ok" && (
          <button
            type="button"
            className="btn"
            onClick={() => {
              setReloads((n) => n + 1);
              void a.reload();
            }}
          >
            {t("admin.reload")}
          </button>
        )}
      </div>
      {a.error && (
        <p className="notice notice-error" role="alert">
          {t("admin.failed", { message: a.error })}
        </p>
      )}
      {a.access === "ok" && (
        <div className="tab-row" role="group" aria-label={t("admin.tabs")}>
          {TABS.map((k) => (
            <button key={k} type="button" className="btn" aria-pressed={tab === k} onClick={() => setTab(k)} data-testid={`admin-tab-${k}`}>
              {t(`admin.tab.${k}`)}
            </button>
          ))}
        </div>
      )}
      {body}
    </section>
  );
}

/// The outcome of the last "settle now" of a channel, beside its button. It is in the tab order and
/// announced (an error as an alert), so a keyboard or screen-reader user reaches it after the button.
function SettleResult({ outcome, id }: { outcome: SettleOutcome | undefined; id: string }) {
  const { t } = useI18n();
  if (!outcome) return null;
  return outcome.kind === "settled" ? (
    <p className="settle-result notice" role="status" tabIndex={0} data-testid="settle-result" data-outcome="settled">
      {t("admin.settleDone", { id: shortHash(id) })}
    </p>
  ) : (
    <p className="settle-result notice notice-error" role="alert" tabIndex={0} data-testid="settle-result" data-outcome="failed">
      {t("admin.settleFailed", { id: shortHash(id), message: outcome.message })}
    </p>
  );
}

function JobCard({ job, busy, onAction }: { job: AdminJob; busy: string | null; onAction(a: "run" | "pause" | "resume"): void }) {
  const { t, tOr, lang } = useI18n();
  const runs = [...job.runs].sort((x, y) => y.startedAtMs - x.startedAtMs).slice(0, 20);
  return (
    <li className="card" data-testid={`job-${job.name}`}>
      <h3 className="card-title">{job.name}</h3>
      <p className="card-text">{tOr(`admin.job.${job.name}`, "")}</p>
      <p>
        <span className={`badge ${job.paused ? "badge-warn" : "badge-ok"}`}>{job.paused ? t("admin.paused") : t("admin.active")}</span>
      </p>
      <div className="wallet-actions">
        <button type="button" className="btn btn-primary" disabled={busy !== null} onClick={() => onAction("run")}>
          {busy === `job:${job.name}:run` ? t("admin.working") : t("admin.runNow")}
        </button>
        <button type="button" className="btn" disabled={busy !== null} onClick={() => onAction(job.paused ? "resume" : "pause")}>
          {job.paused ? t("admin.resume") : t("admin.pause")}
        </button>
      </div>
      <details>
        <summary>{t("admin.runs", { n: job.runs.length })}</summary>
        {runs.length === 0 ? (
          <p className="muted">{t("admin.noRuns")}</p>
        ) : (
          <ol className="runs">
            {runs.map((r) => (
              <li key={`${r.startedAtMs}-${r.finishedAtMs}`}>
                {new Date(r.startedAtMs).toLocaleString(lang)} · {t("admin.runTook", { ms: Math.max(0, r.finishedAtMs - r.startedAtMs) })} ·{" "}
                {tOr(`admin.runTouched.${job.name}`, t("admin.runTouched", { n: r.channelsTouched }), { n: r.channelsTouched })}
                {r.errors.length > 0 && (
                  <ul className="run-errors">
                    {r.errors.map((e, i) => (
                      <li key={i}>{e}</li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ol>
        )}
      </details>
    </li>
  );
}
