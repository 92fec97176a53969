// All my notifications (`#/notifications`): newest first, a page at a time, each linking to its task
// or community, marked read one by one or all at once; live as the bell is (the same state).
import "../social.css";
import type { NotificationsState } from "../hooks/useNotifications";
import { useI18n } from "../i18n-context";
import { NotificationItem } from "./NotificationBell";

interface Props {
  n: NotificationsState;
  connected: boolean;
  signedIn: boolean;
  authBusy: boolean;
  onSignIn(): void;
  onConnect(): void;
}

export function NotificationsPage({ n, connected, signedIn, authBusy, onSignIn, onConnect }: Props) {
  const { t } = useI18n();
  return (
    <section className="section" aria-labelledby="notif-title" data-testid="notifications-page">
      <div className="section-head">
        <h1 id="notif-title" tabIndex={-1}>
          {t("notif.title")}
        </h1>
        {signedIn && (
          <button type="button" className="btn" disabled={n.unread === 0} onClick={() => void n.markRead("all")}>
            {t("notif.readAll")}
          </button>
        )}
      </div>
      {!signedIn ? (
        <SignInFirst connected={connected} authBusy={authBusy} onSignIn={onSignIn} onConnect={onConnect} text={t("notif.signIn")} />
      ) : (
        <>
          <p className="muted" role="status">
            {t("notif.unreadCount", { n: n.unread })}
          </p>
          {n.error && (
            <p className="notice notice-error" role="alert">
              {t("error.load", { message: n.error })}
            </p>
          )}
          {n.loaded && n.items.length === 0 && <p className="muted">{t("notif.none")}</p>}
          <ul className="notif-list notif-page">
            {n.items.map((item) => (
              <NotificationItem key={item.id} item={item} onRead={(id) => void n.markRead([id])} />
            ))}
          </ul>
          {n.more && (
            <button type="button" className="btn" onClick={() => void n.loadOlder()}>
              {t("notif.older")}
            </button>
          )}
          <p className="muted">
            <a href="#/me">{t("notif.prefsLink")}</a>
          </p>
        </>
      )}
    </section>
  );
}

/// What a page that needs a session shows without one: connect a wallet, or sign in with it.
export function SignInFirst({ connected, authBusy, onSignIn, onConnect, text }: { connected: boolean; authBusy: boolean; onSignIn(): void; onConnect(): void; text: string }) {
  const { t } = useI18n();
  return (
    <p className="notice" data-testid="sign-in-first">
      {text}{" "}
      {connected ? (
        <button type="button" className="btn" onClick={onSignIn} disabled={authBusy}>
          {t("auth.signIn")}
        </button>
      ) : (
        <button type="button" className="btn" onClick={onConnect}>
          {t("wallet.connect")}
        </button>
      )}
    </p>
  );
}
