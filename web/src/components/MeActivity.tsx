// The profile page's view of the other markets: the compute tasks I bought (`/api/me/tasks`, once
// signed in), the payment channels I pay through (`/api/channels?payer=`) and the data orders I
// bought or sold (`/api/data/orders?buyer=` / `?seller=`). Each lists the newest few with a link to
// the page where I act on them (the compute market, the assistant's channel panel, the data
// market); the figures that sum them up come from lib/activity.ts.
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import "../activity.css";
import { api, type Channel, type DataOrder, type Service, type Task } from "../lib/api";
import { channelLines, newestTasks, openRemaining, orderLines, orderTotals, receivedPercent, recent, tasksByStatus, type TokenTotal } from "../lib/activity";
import { formatBytes } from "../lib/dataMarket";
import { formatTime, shortAddress, shortHash } from "../lib/format";
import { routeHref } from "../lib/route";
import { serviceName, type Tokens } from "../lib/services";
import { statusKey } from "../lib/status";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import { amountIn } from "./FlCommon";

interface Props {
  address: string;
  tokens: Tokens;
  signedIn: boolean;
  authBusy: boolean;
  onSignIn(): void;
}

type Load<T> = { data: T | null; error: string | null; loading: boolean; reload(): void };

/// `fetch()` answered once per change of `key` (a later answer for an older key is dropped).
function useLoad<T>(key: string | null, fetch: () => Promise<T>): Load<T> {
  const [state, setState] = useState<{ key: string | null; data: T | null; error: string | null }>({ key: null, data: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (key === null) return;
    let cancelled = false;
    setState({ key, data: null, error: null });
    fetch().then(
      (data) => !cancelled && setState({ key, data, error: null }),
      (e: unknown) => !cancelled && setState({ key, data: null, error: errorText(e) }),
    );
    return () => {
      cancelled = true;
    };
    // `fetch` is rebuilt on every render; `key` names what it reads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  const current = state.key === key ? state : { data: null, error: null };
  return { data: current.data, error: current.error, loading: key !== null && current.data === null && current.error === null, reload };
}

export function MeActivity(p: Props) {
  const me = p.address.toLowerCase();
  const amounts = (list: TokenTotal[]) => list.map((x) => amountIn(p.tokens, x.amount, x.token)).join(" + ");
  return (
    <>
      <TasksSection {...p} me={me} amounts={amounts} />
      <ChannelsSection tokens={p.tokens} me={me} amounts={amounts} />
      <OrdersSection tokens={p.tokens} me={me} amounts={amounts} />
    </>
  );
}

type Amounts = (list: TokenTotal[]) => string;

function TasksSection(p: Props & { me: string; amounts: Amounts }) {
  const { t, lang } = useI18n();
  const tasks = useLoad<Task[]>(p.signedIn ? `tasks:${p.me}` : null, () => api.myTasks());
  const services = useLoad<Service[]>(tasks.data && tasks.data.length > 0 ? "services" : null, () => api.services());
  const sorted = useMemo(() => (tasks.data ? newestTasks(tasks.data) : []), [tasks.data]);
  const shown = recent(sorted);
  const byId = new Map((services.data ?? []).map((s) => [s.id, s]));
  const name = (task: Task) => {
    const fallback = t("market.unnamed", { id: task.serviceId });
    const svc = byId.get(task.serviceId);
    return svc ? serviceName(svc, lang, fallback) : fallback;
  };
  return (
    <Section id="me-tasks" title={t("me.activity.tasks")} href={routeHref("market")} linkText={t("me.activity.tasksLink")} load={tasks} more={shown.more}>
      {!p.signedIn ? (
        <div className="notice">
          <p>{t("me.activity.tasksSignIn")}</p>
          <button type="button" className="btn btn-primary" onClick={p.onSignIn} disabled={p.authBusy} data-testid="me-tasks-sign-in">
            {t("auth.signIn")}
          </button>
        </div>
      ) : (
        tasks.data && (
          <>
            {sorted.length === 0 ? (
              <p className="muted" data-testid="me-tasks-empty">
                {t("me.activity.tasksEmpty")}
              </p>
            ) : (
              <p className="muted" data-testid="me-tasks-summary">
                {tasksByStatus(sorted)
                  .map((x) => t("me.activity.statusCount", { status: t(statusKey(x.status)), n: x.n }))
                  .join(" · ")}
              </p>
            )}
            <Lines testId="me-tasks-list">
              {shown.items.map((task) => (
                <li key={task.id} data-testid={`me-task-${task.id}`} data-status={task.status}>
                  <div className="activity-head">
                    <span>
                      <span className="mono">#{task.id}</span> {name(task)}
                    </span>
                    <span className={`status status-${task.status.toLowerCase()}`}>{t(statusKey(task.status))}</span>
                  </div>
                  <div className="activity-facts muted">
                    <span>
                      {t("task.paid")} {amountIn(p.tokens, BigInt(task.amount), task.token)}
                    </span>
                    <span>
                      {t("task.created")} {formatTime(task.createdAt, lang)}
                    </span>
                  </div>
                </li>
              ))}
            </Lines>
          </>
        )
      )}
    </Section>
  );
}

function ChannelsSection(p: { tokens: Tokens; me: string; amounts: Amounts }) {
  const { t, lang } = useI18n();
  const channels = useLoad<Channel[]>(`channels:${p.me}`, () => api.channels({ payer: p.me }));
  const lines = useMemo(() => (channels.data ? channelLines(channels.data, Math.floor(Date.now() / 1000)) : []), [channels.data]);
  const shown = recent(lines);
  const left = openRemaining(lines);
  const amount = (v: bigint, token: string) => amountIn(p.tokens, v, token);
  return (
    <Section id="me-channels" title={t("me.activity.channels")} href={routeHref("assistant")} linkText={t("me.activity.channelsLink")} load={channels} more={shown.more}>
      {channels.data && (
        <>
          {lines.length === 0 ? (
            <p className="muted" data-testid="me-channels-empty">
              {t("me.activity.channelsEmpty")}
            </p>
          ) : (
            left.length > 0 && (
              <p className="muted" data-testid="me-channels-summary">
                {t("me.activity.openRemaining", { amounts: p.amounts(left) })}
              </p>
            )
          )}
          <Lines testId="me-channels-list">
            {shown.items.map(({ channel: c, deposit, spent, remaining, state }) => (
              <li key={c.id} data-testid={`me-channel-${c.id}`} data-state={state}>
                <div className="activity-head">
                  <span>
                    <code className="mono" title={c.id}>
                      {shortHash(c.id)}
                    </code>{" "}
                    <span className="muted">{t("me.activity.payee", { who: shortAddress(c.payee) })}</span>
                  </span>
                  <span className={`badge ${state === "Open" ? "badge-ok" : state === "Expired" ? "badge-warn" : "badge-bad"}`}>{t(`channel.state.${state}`)}</span>
                </div>
                <div className="activity-facts muted">
                  <span>
                    {t("channel.deposit")} {amount(deposit, c.token)}
                  </span>
                  <span>
                    {t("channel.spent")} {amount(spent, c.token)}
                  </span>
                  <span data-testid="me-channel-remaining">
                    {t("channel.remaining")} {amount(remaining, c.token)}
                  </span>
                  <span>
                    {t("channel.expiry")} {formatTime(c.expiry, lang)}
                  </span>
                </div>
              </li>
            ))}
          </Lines>
        </>
      )}
    </Section>
  );
}

function OrdersSection(p: { tokens: Tokens; me: string; amounts: Amounts }) {
  const { t, lang } = useI18n();
  const orders = useLoad<{ bought: DataOrder[]; sold: DataOrder[] }>(`orders:${p.me}`, async () => {
    const [bought, sold] = await Promise.all([api.dataOrders({ buyer: p.me }), api.dataOrders({ seller: p.me })]);
    return { bought, sold };
  });
  const lines = useMemo(() => (orders.data ? orderLines(orders.data.bought, orders.data.sold) : []), [orders.data]);
  const shown = recent(lines);
  const totals = orderTotals(lines);
  const figures = [
    totals.paid.length > 0 && t("me.activity.paid", { amounts: p.amounts(totals.paid) }),
    totals.earned.length > 0 && t("me.activity.earned", { amounts: p.amounts(totals.earned) }),
    totals.escrowed.length > 0 && t("me.activity.escrowed", { amounts: p.amounts(totals.escrowed) }),
  ].filter(Boolean);
  return (
    <Section id="me-orders" title={t("me.activity.orders")} href={routeHref("data")} linkText={t("me.activity.ordersLink")} load={orders} more={shown.more}>
      {orders.data && (
        <>
          {lines.length === 0 ? (
            <p className="muted" data-testid="me-orders-empty">
              {t("me.activity.ordersEmpty")}
            </p>
          ) : (
            figures.length > 0 && (
              <p className="muted" data-testid="me-orders-summary">
                {figures.join(" · ")}
              </p>
            )
          )}
          <Lines testId="me-orders-list">
            {shown.items.map(({ order: o, roles }) => (
              <li key={o.id} data-testid={`me-order-${o.id}`} data-state={o.state}>
                <div className="activity-head">
                  <span>
                    <code className="mono" title={o.id}>
                      {shortHash(o.id)}
                    </code>{" "}
                    <span className="muted">
                      {roles.includes("buyer") ? t("me.activity.boughtFrom", { who: shortAddress(o.seller) }) : t("me.activity.soldTo", { who: shortAddress(o.buyer) })}
                    </span>
                  </span>
                  <span className={`badge ${["Settled", "Paid"].includes(o.state) ? "badge-ok" : o.state === "Expired" ? "badge-bad" : "badge-warn"}`}>{t(`data.state.${o.state}`)}</span>
                </div>
                <div className="activity-facts muted">
                  <span>
                    {t("data.price")} {amountIn(p.tokens, BigInt(o.price), o.token)}
                  </span>
                  <span>
                    {t("data.received")} {t("data.receivedOf", { received: formatBytes(o.received), total: formatBytes(o.totalBytes), percent: receivedPercent(o) })}
                  </span>
                  <span>
                    {t("me.activity.opened")} {formatTime(o.openedAt, lang)}
                  </span>
                </div>
              </li>
            ))}
          </Lines>
        </>
      )}
    </Section>
  );
}

function Section(p: { id: string; title: string; href: string; linkText: string; load: Load<unknown>; more: number; children: ReactNode }) {
  const { t } = useI18n();
  const titleId = `${p.id}-title`;
  return (
    <section className="panel activity" aria-labelledby={titleId} data-testid={p.id}>
      <div className="section-head">
        <h2 id={titleId}>{p.title}</h2>
        <a href={p.href} data-testid={`${p.id}-link`}>
          {p.linkText}
        </a>
      </div>
      {p.load.error && (
        <div className="notice notice-error" role="alert" data-testid={`${p.id}-error`}>
          <p>{t("error.load", { message: p.load.error })}</p>
          <button type="button" className="btn" onClick={p.load.reload}>
            {t("me.activity.retry")}
          </button>
        </div>
      )}
      {p.load.loading && <p className="muted">{t("fl.loading")}</p>}
      {p.children}
      {p.more > 0 && (
        <p>
          <a href={p.href}>{t("me.activity.more", { n: p.more })}</a>
        </p>
      )}
    </section>
  );
}

function Lines({ testId, children }: { testId: string; children: ReactNode[] }) {
  return children.length === 0 ? null : (
    <ul className="activity-list" data-testid={testId}>
      {children}
    </ul>
  );
}
