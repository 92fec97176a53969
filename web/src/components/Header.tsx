import { useId, useState } from "react";
import type { DevAccount, NetworkInfo } from "../lib/api";
import { formatAmount, shortAddress } from "../lib/format";
import { LANGS, type Lang } from "../lib/i18n";
import { routeHref, type Route } from "../lib/route";
import type { Tokens } from "../lib/services";
import type { Balances, Wallet } from "../lib/wallet";
import type { NotificationsState } from "../hooks/useNotifications";
import { useI18n } from "../i18n-context";
import { NotificationBell } from "./NotificationBell";

interface Props {
  route: Route;
  net: NetworkInfo | null;
  wallet: Wallet | null;
  walletChainId: number | null;
  chainOk: boolean;
  balances: Balances | null;
  tokens: Tokens;
  devAccounts: DevAccount[] | null;
  walletError: string | null;
  signedIn: boolean;
  authBusy: boolean;
  authError: string | null;
  onConnect(): void;
  onUseDevAccount(a: DevAccount): void;
  onDisconnect(): void;
  onSwitchNetwork(): void;
  onSignIn(): void;
  onSignOut(): void;
  /// The signed-in user's notifications (the bell); null when signed out.
  notifications: NotificationsState | null;
}

export function Header(p: Props) {
  const { t } = useI18n();
  return (
    <header className="header">
      <div className="header-row">
        <a className="brand" href="/" aria-label={t("app.home")}>
          <span className="brand-mark" aria-hidden="true">
            A
          </span>
          <span className="brand-name">{t("app.name")}</span>
        </a>
        <nav aria-label={t("nav.label")} className="nav">
          <NavLink route="market" current={p.route} label={t("nav.market")} />
          <NavLink route="assistant" current={p.route} label={t("nav.assistant")} />
          <NavLink route="data" current={p.route} label={t("nav.data")} />
          <NavLink route="fl" current={p.route} label={t("nav.fl")} />
          <NavLink route="board" current={p.route} label={t("nav.board")} />
          <NavLink route="communities" current={p.route === "community" ? "communities" : p.route} label={t("nav.communities")} />
          {p.wallet && <NavLink route="me" current={p.route} label={t("nav.me")} />}
          {/* Only a signed-in wallet can be an admin; the node still decides (403 otherwise). */}
          {(p.signedIn || p.route === "admin") && <NavLink route="admin" current={p.route} label={t("nav.admin")} />}
        </nav>
        {p.signedIn && p.notifications && <NotificationBell n={p.notifications} />}
        <LanguageSwitch />
      </div>
      <WalletArea {...p} />
    </header>
  );
}

function NavLink({ route, current, label }: { route: Route; current: Route; label: string }) {
  return (
    <a href={routeHref(route)} className="nav-link" aria-current={route === current ? "page" : undefined} data-testid={`nav-${route}`}>
      {label}
    </a>
  );
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  const id = useId();
  return (
    <div className="lang">
      <label htmlFor={id} className="sr-only">
        {t("lang.label")}
      </label>
      <select id={id} value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="lang-select">
        {LANGS.map((l) => (
          <option key={l} value={l}>
            {t(`lang.${l}`)}
          </option>
        ))}
      </select>
    </div>
  );
}

function WalletArea(p: Props) {
  const { t, tOr } = useI18n();
  const [choosing, setChoosing] = useState(false);
  const selectId = useId();
  const { net, wallet } = p;
  const tokenInfo = net ? p.tokens[net.marketToken.toLowerCase()] : undefined;

  if (!wallet) {
    const hasInjected = typeof window !== "undefined" && !!window.ethereum;
    const devOffered = !!net?.embeddedChain && !!p.devAccounts?.length;
    return (
      <section className="wallet" aria-label={t("wallet.label")}>
        <div className="wallet-actions">
          <button type="button" className="btn btn-primary" onClick={p.onConnect} data-testid="connect-wallet">
            {t("wallet.connect")}
          </button>
          {!hasInjected && <span className="muted">{t("wallet.noProviderHint")}</span>}
          {devOffered && (
            <button type="button" className="btn" onClick={() => setChoosing((c) => !c)} aria-expanded={choosing}>
              {t("dev.use")}
            </button>
          )}
        </div>
        {devOffered && choosing && (
          <form
            className="dev-chooser"
            onSubmit={(e) => {
              e.preventDefault();
              const index = Number(new FormData(e.currentTarget).get("account"));
              const acct = p.devAccounts?.find((a) => a.index === index);
              if (acct) p.onUseDevAccount(acct);
            }}
          >
            <p className="badge badge-warn">{t("dev.localOnly")}</p>
            <label htmlFor={selectId}>{t("dev.choose")}</label>
            <select
              id={selectId}
              name="account"
              defaultValue={p.devAccounts?.find((a) => a.role.includes("buyer"))?.index}
            >
              {p.devAccounts?.map((a) => (
                <option key={a.index} value={a.index}>
                  #{a.index} {shortAddress(a.address)} — {tOr(`role.${a.role}`, a.role)}
                </option>
              ))}
            </select>
            <button type="submit" className="btn btn-primary">
              {t("dev.useSelected")}
            </button>
          </form>
        )}
        {p.walletError && (
          <p className="notice notice-error" role="alert">
            {p.walletError}
          </p>
        )}
      </section>
    );
  }

  return (
    <section className="wallet" aria-label={t("wallet.label")}>
      <dl className="wallet-facts">
        <div>
          <dt>{t("wallet.account")}</dt>
          <dd>
            <span className="mono" title={wallet.address} data-testid="wallet-address">
              {shortAddress(wallet.address)}
            </span>
            {wallet.kind === "dev" && <span className="badge badge-warn">{t("dev.badge")}</span>}
          </dd>
        </div>
        <div>
          <dt>{t("wallet.network")}</dt>
          <dd data-testid="wallet-network">
            {p.chainOk ? (
              <span className="badge badge-ok">
                {net?.embeddedChain ? t("network.dev", { id: net.chainId }) : t("network.chain", { id: net?.chainId ?? "?" })}
              </span>
            ) : (
              <span className="badge badge-bad">{t("network.wrongBadge", { id: p.walletChainId ?? "?" })}</span>
            )}
          </dd>
        </div>
        <div>
          <dt>{t("wallet.balances")}</dt>
          <dd data-testid="wallet-balances">
            {p.balances && p.chainOk ? (
              <>
                <span>{formatAmount(p.balances.eth, 18, "ETH", 4)}</span>
                {" · "}
                <span>
                  {tokenInfo ? formatAmount(p.balances.token, tokenInfo.decimals, tokenInfo.symbol, 4) : "…"}
                </span>
              </>
            ) : (
              <span className="muted">—</span>
            )}
          </dd>
        </div>
      </dl>
      {!p.chainOk && net && (
        <div className="notice notice-warn" role="alert" data-testid="wrong-network">
          <p>{t("network.wrong", { actual: p.walletChainId ?? "?", expected: net.chainId })}</p>
          <button type="button" className="btn btn-primary" onClick={p.onSwitchNetwork} data-testid="switch-network">
            {t("network.switch")}
          </button>
        </div>
      )}
      <div className="wallet-actions">
        {p.signedIn ? (
          <>
            <span className="badge badge-ok" data-testid="signed-in">
              {t("auth.signedIn")}
            </span>
            <button type="button" className="btn" onClick={p.onSignOut}>
              {t("auth.signOut")}
            </button>
          </>
        ) : (
          <button
            type="button"
            className="btn btn-primary"
            onClick={p.onSignIn}
            disabled={p.authBusy || !p.chainOk}
            data-testid="sign-in"
          >
            {p.authBusy ? t("auth.signingIn") : t("auth.signIn")}
          </button>
        )}
        <button type="button" className="btn" onClick={p.onDisconnect}>
          {t("wallet.disconnect")}
        </button>
      </div>
      {p.authError && (
        <p className="notice notice-error" role="alert" data-testid="auth-error">
          {p.authError}
        </p>
      )}
      {p.walletError && (
        <p className="notice notice-error" role="alert">
          {p.walletError}
        </p>
      )}
    </section>
  );
}
