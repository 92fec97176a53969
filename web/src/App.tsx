// The page: header with the wallet, the compute market, the user's tasks. State lives here and is
// handed down; the server pushes task and service changes over one event stream.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { getAddress } from "viem";
import { api, ApiError, type DevAccount, type NetworkInfo, type Service, type Session, type Task } from "./lib/api";
import { ETH_TOKEN, marketTokenAbi } from "./lib/abi";
import { buildSignInMessage } from "./lib/siwe";
import { statusKey } from "./lib/status";
import { emptyTasks, parseTaskEvent, sortedTasks, tasksReducer } from "./lib/tasks";
import {
  devWallet,
  errorText,
  isUserRejection,
  parseChainId,
  providerChainId,
  publicClientFor,
  switchToNetwork,
  walletClientFor,
  type Wallet,
} from "./lib/wallet";
import { useI18n } from "./i18n-context";
import { Header } from "./components/Header";
import { Market } from "./components/Market";
import { BuyDialog } from "./components/BuyDialog";
import { TaskList } from "./components/Tasks";

export interface TokenInfo {
  symbol: string;
  decimals: number;
}

export interface Balances {
  eth: bigint;
  token: bigint;
}

const WALLET_KEY = "agora.wallet";

function remember(key: string, value: string | null) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage unavailable: nothing is remembered
  }
}

function recall(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function App() {
  const { t } = useI18n();
  const [net, setNet] = useState<NetworkInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [services, setServices] = useState<Service[] | null>(null);
  const [tokens, setTokens] = useState<Record<string, TokenInfo>>({ [ETH_TOKEN]: { symbol: "ETH", decimals: 18 } });
  const [devAccounts, setDevAccounts] = useState<DevAccount[] | null>(null);
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const [walletChainId, setWalletChainId] = useState<number | null>(null);
  const [walletError, setWalletError] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [authError, setAuthError] = useState<string | null>(null);
  const [authBusy, setAuthBusy] = useState(false);
  const [balances, setBalances] = useState<Balances | null>(null);
  const [tasks, dispatch] = useReducer(tasksReducer, emptyTasks);
  const [announcement, setAnnouncement] = useState("");
  const [buying, setBuying] = useState<Service | null>(null);
  const [stream, setStream] = useState<"connecting" | "live" | "reconnecting">("connecting");

  const address = wallet?.address ?? null;
  const chainOk = wallet?.kind === "dev" || (net != null && walletChainId === net.chainId);
  const signedIn = session != null && address != null && session.address.toLowerCase() === address.toLowerCase();

  // --- network, services, tokens, dev accounts, session -------------------------------------------
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const [n, s] = await Promise.all([api.network(), api.services()]);
        if (cancelled) return;
        setNet(n);
        setServices(s);
        if (n.embeddedChain) {
          api.devAccounts().then(
            (a) => !cancelled && setDevAccounts(a),
            () => !cancelled && setDevAccounts(null),
          );
        }
      } catch (e) {
        if (!cancelled) setLoadError(errorText(e));
      }
    })();
    api.session().then(
      (s) => !cancelled && setSession(s),
      () => !cancelled && setSession(null),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  // Symbol and decimals of every token in use, read from the token contracts.
  const tokenAddresses = useMemo(() => {
    const set = new Set<string>();
    if (net) set.add(net.marketToken.toLowerCase());
    for (const s of services ?? []) set.add(s.token.toLowerCase());
    set.delete(ETH_TOKEN);
    return [...set].sort();
  }, [net, services]);
  useEffect(() => {
    if (!net) return;
    const client = publicClientFor(net);
    for (const addr of tokenAddresses) {
      if (tokens[addr]) continue;
      const address = addr as `0x${string}`;
      Promise.all([
        client.readContract({ address, abi: marketTokenAbi, functionName: "symbol" }),
        client.readContract({ address, abi: marketTokenAbi, functionName: "decimals" }),
      ]).then(
        ([symbol, decimals]) =>
          setTokens((prev) => ({ ...prev, [addr]: { symbol: String(symbol), decimals: Number(decimals) } })),
        (e) => setLoadError(t("error.chainRead", { message: errorText(e) })),
      );
    }
    // `tokens` is read only to skip known ones.
  }, [net, tokenAddresses, t]);

  // --- wallet ----------------------------------------------------------------------------------------
  const refreshBalances = useCallback(async () => {
    if (!net || !address) return;
    const client = publicClientFor(net);
    try {
      const [eth, token] = await Promise.all([
        client.getBalance({ address }),
        client.readContract({ address: net.marketToken, abi: marketTokenAbi, functionName: "balanceOf", args: [address] }),
      ]);
      setBalances({ eth, token: token as bigint });
    } catch (e) {
      setWalletError(t("error.chainRead", { message: errorText(e) }));
    }
  }, [net, address, t]);

  useEffect(() => {
    setBalances(null);
    void refreshBalances();
  }, [refreshBalances]);

  const connectInjected = useCallback(
    async (silent = false) => {
      setWalletError(null);
      const provider = window.ethereum;
      if (!provider) {
        if (!silent) setWalletError(t("wallet.noProvider"));
        return;
      }
      try {
        const accounts = (await provider.request({ method: silent ? "eth_accounts" : "eth_requestAccounts" })) as string[];
        if (!accounts?.length) {
          if (!silent) setWalletError(t("wallet.noAccounts"));
          return;
        }
        const chainId = await providerChainId(provider);
        setWallet({ kind: "injected", address: getAddress(accounts[0]), provider });
        setWalletChainId(chainId);
        remember(WALLET_KEY, "injected");
      } catch (e) {
        if (!silent) setWalletError(isUserRejection(e) ? t("wallet.connectRejected") : errorText(e));
      }
    },
    [t],
  );

  const chooseDevAccount = useCallback(
    (acct: DevAccount) => {
      setWalletError(null);
      setWallet(devWallet(acct.privateKey, acct.role));
      setWalletChainId(net?.chainId ?? null);
      remember(WALLET_KEY, `dev:${acct.index}`);
    },
    [net],
  );

  const disconnect = useCallback(() => {
    setWallet(null);
    setWalletChainId(null);
    remember(WALLET_KEY, null);
  }, []);

  // Reconnect the wallet used last time, without prompting.
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current || !net) return;
    const saved = recall(WALLET_KEY);
    if (saved === "injected") {
      restored.current = true;
      void connectInjected(true);
    } else if (saved?.startsWith("dev:")) {
      if (!net.embeddedChain) {
        restored.current = true;
        remember(WALLET_KEY, null);
      } else if (devAccounts) {
        restored.current = true;
        const acct = devAccounts.find((a) => `dev:${a.index}` === saved);
        if (acct) chooseDevAccount(acct);
      }
    } else {
      restored.current = true;
    }
  }, [net, devAccounts, connectInjected, chooseDevAccount]);

  // Follow the injected wallet's account and chain.
  useEffect(() => {
    if (wallet?.kind !== "injected") return;
    const provider = wallet.provider;
    const onAccounts = (...args: unknown[]) => {
      const accounts = args[0] as string[] | undefined;
      if (!accounts?.length) disconnect();
      else setWallet({ kind: "injected", address: getAddress(accounts[0]), provider });
    };
    const onChain = (...args: unknown[]) => {
      try {
        setWalletChainId(parseChainId(args[0]));
      } catch {
        // a malformed event: keep the chain we knew
      }
    };
    provider.on?.("accountsChanged", onAccounts);
    provider.on?.("chainChanged", onChain);
    return () => {
      provider.removeListener?.("accountsChanged", onAccounts);
      provider.removeListener?.("chainChanged", onChain);
    };
  }, [wallet, disconnect]);

  const switchNetwork = useCallback(async () => {
    if (!net || wallet?.kind !== "injected") return;
    setWalletError(null);
    try {
      await switchToNetwork(wallet.provider, net);
      setWalletChainId(await providerChainId(wallet.provider));
    } catch (e) {
      setWalletError(isUserRejection(e) ? t("wallet.switchRejected") : t("wallet.switchFailed", { message: errorText(e) }));
    }
  }, [net, wallet, t]);

  // --- sign-in ---------------------------------------------------------------------------------------
  const signIn = useCallback(async () => {
    if (!net || !wallet) return;
    setAuthError(null);
    setAuthBusy(true);
    try {
      const { nonce } = await api.nonce();
      const message = buildSignInMessage({
        address: wallet.address,
        chainId: net.chainId,
        nonce,
        domain: window.location.host,
        uri: window.location.origin,
        statement: t("auth.statement"),
      });
      const client = walletClientFor(wallet, net);
      const signature = await client.signMessage({ account: client.account!, message });
      setSession(await api.verify(message, signature));
    } catch (e) {
      if (isUserRejection(e)) setAuthError(t("auth.rejected"));
      else if (e instanceof ApiError) setAuthError(t("auth.failed", { message: e.message }));
      else setAuthError(t("auth.failed", { message: errorText(e) }));
    } finally {
      setAuthBusy(false);
    }
  }, [net, wallet, t]);

  const signOut = useCallback(async () => {
    setAuthError(null);
    try {
      await api.logout();
    } catch (e) {
      setAuthError(errorText(e));
    }
    setSession(null);
  }, []);

  // --- tasks -------------------------------------------------------------------------------------------
  const tasksRef = useRef(tasks);
  tasksRef.current = tasks;
  const [tasksError, setTasksError] = useState<string | null>(null);
  const [tasksLoading, setTasksLoading] = useState(false);

  useEffect(() => {
    dispatch({ type: "reset", user: address });
  }, [address]);

  const loadMyTasks = useCallback(async () => {
    if (!address || !signedIn) return;
    setTasksLoading(true);
    try {
      const list = await api.myTasks();
      dispatch({ type: "loaded", user: address, tasks: list });
      setTasksError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setSession(null);
      else setTasksError(errorText(e));
    } finally {
      setTasksLoading(false);
    }
  }, [address, signedIn]);

  useEffect(() => {
    void loadMyTasks();
  }, [loadMyTasks]);

  const announceTask = useCallback(
    (task: Task) => {
      const prev = tasksRef.current.byId[task.id];
      if (prev && prev.status === task.status) return;
      setAnnouncement(t("announce.taskStatus", { id: task.id, status: t(statusKey(task.status)) }));
    },
    [t],
  );

  /// A task view from anywhere (stream, a fetch after a purchase) entering the page.
  const receiveTask = useCallback(
    (task: Task) => {
      if (!address || task.user.toLowerCase() !== address.toLowerCase()) return;
      announceTask(task);
      dispatch({ type: "upsert", task });
      void refreshBalances();
    },
    [address, announceTask, refreshBalances],
  );

  /// After the stream (re)opens: catch up on whatever changed while it was down.
  const catchUp = useCallback(async () => {
    api.services().then(setServices, () => undefined);
    if (signedIn) await loadMyTasks();
    else {
      for (const task of Object.values(tasksRef.current.byId)) {
        api.task(task.id).then(receiveTask, () => undefined);
      }
    }
  }, [signedIn, loadMyTasks, receiveTask]);

  const handlers = useRef({ receiveTask, catchUp });
  handlers.current = { receiveTask, catchUp };

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    const open = () => {
      if (stopped) return;
      setStream(attempt === 0 ? "connecting" : "reconnecting");
      const url = address ? `/api/events?user=${address.toLowerCase()}` : "/api/events";
      const es = new EventSource(url);
      source = es;
      es.addEventListener("open", () => {
        attempt = 0;
        setStream("live");
        void handlers.current.catchUp();
      });
      es.addEventListener("task", (ev) => {
        const task = parseTaskEvent((ev as MessageEvent<string>).data);
        if (task) handlers.current.receiveTask(task);
      });
      es.addEventListener("service", (ev) => {
        try {
          const svc = JSON.parse((ev as MessageEvent<string>).data) as Service;
          if (typeof svc.id !== "number") return;
          setServices((prev) => {
            const list = [...(prev ?? [])];
            const i = list.findIndex((s) => s.id === svc.id);
            if (i >= 0) list[i] = svc;
            else list.push(svc);
            return list.sort((a, b) => a.id - b.id);
          });
        } catch {
          // not a service: ignored
        }
      });
      // The server dropped events for this client (it fell behind): re-read everything shown.
      es.addEventListener("resync", () => void handlers.current.catchUp());
      es.addEventListener("error", () => {
        es.close();
        if (stopped) return;
        setStream("reconnecting");
        const delay = Math.min(10_000, 500 * 2 ** attempt);
        attempt += 1;
        timer = setTimeout(open, delay);
      });
    };
    open();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      source?.close();
    };
  }, [address]);

  const taskList = useMemo(() => sortedTasks(tasks), [tasks]);
  const serviceById = useMemo(() => new Map((services ?? []).map((s) => [s.id, s])), [services]);

  return (
    <>
      <a className="skip-link" href="#main">
        {t("a11y.skip")}
      </a>
      <Header
        net={net}
        wallet={wallet}
        walletChainId={walletChainId}
        chainOk={chainOk}
        balances={balances}
        tokens={tokens}
        devAccounts={devAccounts}
        walletError={walletError}
        signedIn={signedIn}
        authBusy={authBusy}
        authError={authError}
        onConnect={() => void connectInjected()}
        onUseDevAccount={chooseDevAccount}
        onDisconnect={disconnect}
        onSwitchNetwork={() => void switchNetwork()}
        onSignIn={() => void signIn()}
        onSignOut={() => void signOut()}
      />
      <div className="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {announcement}
      </div>
      <main id="main" tabIndex={-1}>
        {loadError && (
          <p className="notice notice-error" role="alert">
            {t("error.load", { message: loadError })}
          </p>
        )}
        <Market services={services} failed={loadError !== null} tokens={tokens} onBuy={setBuying} />
        <TaskList
          net={net}
          wallet={wallet}
          chainOk={chainOk}
          signedIn={signedIn}
          tasks={taskList}
          loading={tasksLoading}
          error={tasksError}
          stream={stream}
          services={serviceById}
          tokens={tokens}
          onSignIn={() => void signIn()}
          authBusy={authBusy}
          onTaskChanged={receiveTask}
          onBalancesChanged={() => void refreshBalances()}
        />
      </main>
      <footer className="footer">
        <p>{t("footer.text")}</p>
      </footer>
      {buying && net && (
        <BuyDialog
          net={net}
          service={buying}
          tokens={tokens}
          wallet={wallet}
          chainOk={chainOk}
          tasks={tasks.byId}
          onClose={() => setBuying(null)}
          onConnect={() => void connectInjected()}
          onTaskCreated={(task) => receiveTask(task)}
          onBalancesChanged={() => void refreshBalances()}
        />
      )}
    </>
  );
}
