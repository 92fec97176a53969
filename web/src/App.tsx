// The page: header with the wallet and the sections — the compute market and the user's tasks, the
// AI assistant (chat and its payment channel), the data market, the federated-learning market and
// the profile with its assets, the admin pages — chosen by the hash route. State lives in hooks (src/hooks/) and is handed down; the server pushes task and
// service changes over one event stream.
import { lazy, Suspense, useCallback, useMemo, useState } from "react";
import type { Service } from "./lib/api";
import { useI18n } from "./i18n-context";
import { useNetwork } from "./hooks/useNetwork";
import { useSession } from "./hooks/useSession";
import { useTaskStream } from "./hooks/useTaskStream";
import { useWallet } from "./hooks/useWallet";
import { useRoute } from "./hooks/useRoute";
import { useNotifications } from "./hooks/useNotifications";
import { AdminPage } from "./components/AdminPage";
import { AssistantPage } from "./components/AssistantPage";
import { Header } from "./components/Header";
import { Market } from "./components/Market";
import { BuyDialog } from "./components/BuyDialog";
import { DataMarketPage } from "./components/DataMarket";
import { NotificationsPage } from "./components/NotificationsPage";
import { VerifyEmail } from "./components/VerifyEmail";

// The federated-learning pages load when first opened (their code and the FederatedMarket ABI stay
// out of the first download).
const FlSection = lazy(() => import("./components/FlSection").then((m) => ({ default: m.FlSection })));
const MePage = lazy(() => import("./components/MePage").then((m) => ({ default: m.MePage })));
// The community task market and the communities, likewise (with the TaskBoard and Communities ABIs).
const BoardSection = lazy(() => import("./components/BoardSection").then((m) => ({ default: m.BoardSection })));
import { TaskList } from "./components/Tasks";

export function App() {
  const { t } = useI18n();
  const route = useRoute();
  const network = useNetwork();
  const { net, services, tokens, devAccounts, loadError } = network;
  const w = useWallet(net, devAccounts);
  const auth = useSession(net, w.wallet);
  const refreshBalances = w.refreshBalances;
  const balancesChanged = useCallback(() => void refreshBalances(), [refreshBalances]);
  const live = useTaskStream({
    address: w.wallet?.address ?? null,
    signedIn: auth.signedIn,
    onSessionExpired: auth.expire,
    onService: network.receiveService,
    onReconnected: network.reloadServices,
    onTaskChanged: balancesChanged,
  });
  const notifications = useNotifications(auth.signedIn, w.wallet?.address ?? null);
  const [buying, setBuying] = useState<Service | null>(null);
  const serviceById = useMemo(() => new Map((services ?? []).map((s) => [s.id, s])), [services]);
  const connect = () => void w.connectInjected();
  const signIn = () => void auth.signIn();

  return (
    <>
      <a className="skip-link" href="#main">
        {t("a11y.skip")}
      </a>
      <Header
        route={route}
        net={net}
        wallet={w.wallet}
        walletChainId={w.walletChainId}
        chainOk={w.chainOk}
        balances={w.balances}
        tokens={tokens}
        devAccounts={devAccounts}
        walletError={w.walletError}
        signedIn={auth.signedIn}
        authBusy={auth.authBusy}
        authError={auth.authError}
        onConnect={connect}
        onUseDevAccount={w.chooseDevAccount}
        onDisconnect={w.disconnect}
        onSwitchNetwork={() => void w.switchNetwork()}
        onSignIn={signIn}
        onSignOut={() => void auth.signOut()}
        notifications={auth.signedIn ? notifications : null}
      />
      <div className="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {live.announcement}
      </div>
      <main id="main" tabIndex={-1}>
        {loadError && (
          <p className="notice notice-error" role="alert">
            {t("error.load", { message: loadError })}
          </p>
        )}
        {route === "assistant" && (
          <AssistantPage
            net={net}
            wallet={w.wallet}
            chainOk={w.chainOk}
            signedIn={auth.signedIn}
            tokens={tokens}
            authBusy={auth.authBusy}
            onSignIn={signIn}
            onConnect={connect}
            onBalancesChanged={balancesChanged}
          />
        )}
        {route === "data" && (
          <DataMarketPage
            net={net}
            wallet={w.wallet}
            chainOk={w.chainOk}
            tokens={tokens}
            onConnect={connect}
            onBalancesChanged={balancesChanged}
          />
        )}
        {(route === "fl" || route === "me") && (
          <Suspense fallback={<p className="muted" role="status">{t("fl.loading")}</p>}>
            {route === "fl" ? (
              <FlSection net={net} wallet={w.wallet} chainOk={w.chainOk} tokens={tokens} onConnect={connect} onBalancesChanged={balancesChanged} />
            ) : (
              <MePage
                net={net}
                wallet={w.wallet}
                chainOk={w.chainOk}
                balances={w.balances}
                tokens={tokens}
                signedIn={auth.signedIn}
                authBusy={auth.authBusy}
                onSignIn={signIn}
                onConnect={connect}
                onBalancesChanged={balancesChanged}
              />
            )}
          </Suspense>
        )}
        {(route === "board" || route === "communities" || route === "community") && (
          <Suspense fallback={<p className="muted" role="status">{t("fl.loading")}</p>}>
            <BoardSection net={net} wallet={w.wallet} chainOk={w.chainOk} tokens={tokens} signedIn={auth.signedIn} authBusy={auth.authBusy} onSignIn={signIn} onConnect={connect} onBalancesChanged={balancesChanged} />
          </Suspense>
        )}
        {route === "notifications" && (
          <NotificationsPage n={notifications} connected={!!w.wallet} signedIn={auth.signedIn} authBusy={auth.authBusy} onSignIn={signIn} onConnect={connect} />
        )}
        {route === "verify-email" && <VerifyEmail />}
        {route === "admin" && <AdminPage signedIn={auth.signedIn} address={w.wallet?.address ?? null} net={net} tokens={tokens} />}
        {route === "market" && <Market services={services} failed={loadError !== null} tokens={tokens} onBuy={setBuying} />}
        {route === "market" && (
        <TaskList
          net={net}
          wallet={w.wallet}
          chainOk={w.chainOk}
          signedIn={auth.signedIn}
          tasks={live.tasks}
          loading={live.loading}
          error={live.error}
          stream={live.stream}
          services={serviceById}
          tokens={tokens}
          onSignIn={signIn}
          authBusy={auth.authBusy}
          onTaskChanged={live.receiveTask}
          onBalancesChanged={balancesChanged}
        />
        )}
      </main>
      <footer className="footer">
        <p>{t("footer.text")}</p>
      </footer>
      {buying && net && (
        <BuyDialog
          net={net}
          service={buying}
          tokens={tokens}
          wallet={w.wallet}
          chainOk={w.chainOk}
          tasks={live.byId}
          onClose={() => setBuying(null)}
          onConnect={connect}
          onTaskCreated={live.receiveTask}
          onBalancesChanged={balancesChanged}
        />
      )}
    </>
  );
}
