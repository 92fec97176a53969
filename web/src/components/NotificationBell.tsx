// The notification bell in the header (signed in): the unread count, kept live by the node's
// notification stream (hooks/useNotifications.ts), and a panel with the latest ones — each links to
// its task or community and is marked read when followed — "mark all read" and a link to the full
// list (`#/notifications`). A notification pushed live is announced to screen readers.
import { useEffect, useId, useRef, useState } from "react";
import "../social.css";
import { formatTime } from "../lib/format";
import { notificationHref, notificationText, type Notification } from "../lib/social";
import type { NotificationsState } from "../hooks/useNotifications";
import { useI18n } from "../i18n-context";

const SHOWN = 8;

export function NotificationBell({ n }: { n: NotificationsState }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onClick = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("mousedown", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mousedown", onClick);
    };
  }, [open]);
  const latestText = useNotificationText(n.latest);

  return (
    <div className="notif" ref={root}>
      <button
        ref={button}
        type="button"
        className="btn notif-bell"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={t("notif.bellLabel", { n: n.unread })}
        onClick={() => setOpen((o) => !o)}
        data-testid="notif-bell"
      >
        <span aria-hidden="true">🔔</span>
        {n.unread > 0 && (
          <span className="notif-count" data-testid="notif-count">
            {n.unread > 99 ? "99+" : n.unread}
          </span>
        )}
      </button>
      <div className="sr-only" role="status" aria-live="polite">
        {n.latest ? t("notif.new", { text: latestText }) : ""}
      </div>
      {open && (
        <div id={panelId} className="notif-panel" role="region" aria-label={t("notif.title")} data-testid="notif-panel">
          <div className="notif-head">
            <strong>{t("notif.title")}</strong>
            <button type="button" className="btn" disabled={n.unread === 0} onClick={() => void n.markRead("all")} data-testid="notif-read-all">
              {t("notif.readAll")}
            </button>
          </div>
          {n.error && (
            <p className="notice notice-error" role="alert">
              {t("error.load", { message: n.error })}
            </p>
          )}
          {n.loaded && n.items.length === 0 && <p className="muted">{t("notif.none")}</p>}
          <ul className="notif-list">
            {n.items.slice(0, SHOWN).map((item) => (
              <NotificationItem key={item.id} item={item} onFollow={() => setOpen(false)} onRead={(id) => void n.markRead([id])} />
            ))}
          </ul>
          <a href="#/notifications" onClick={() => setOpen(false)} data-testid="notif-all">
            {t("notif.all")}
          </a>
        </div>
      )}
    </div>
  );
}

/// A notification in the page's language (the node's English title for a kind it has no text for).
export function useNotificationText(item: Notification | null): string {
  const { tOr } = useI18n();
  if (!item) return "";
  const { key, vars } = notificationText(item);
  return tOr(key, item.title, vars);
}

/// One notification: its text (a link to what it is about), when, and read or not.
export function NotificationItem({ item, onRead, onFollow }: { item: Notification; onRead(id: number): void; onFollow?(): void }) {
  const { t, lang } = useI18n();
  const text = useNotificationText(item);
  const href = notificationHref(item);
  const unread = item.readAt === null;
  const follow = () => {
    if (unread) onRead(item.id);
    onFollow?.();
  };
  return (
    <li className={`notif-item${unread ? " notif-unread" : ""}`} data-testid={`notif-item-${item.id}`} data-kind={item.kind} data-read={unread ? "no" : "yes"}>
      {unread && <span className="sr-only">{t("notif.unread")}</span>}
      {href ? (
        <a href={href} onClick={follow}>
          {text}
        </a>
      ) : (
        <span>{text}</span>
      )}
      <span className="muted notif-when">{formatTime(item.createdAt, lang)}</span>
      {unread && (
        <button type="button" className="link-button" onClick={() => onRead(item.id)} aria-label={t("notif.markReadNamed", { text })}>
          {t("notif.markRead")}
        </button>
      )}
    </li>
  );
}
