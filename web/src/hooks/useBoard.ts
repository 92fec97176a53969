// What the task board's and communities' pages share: the board's configuration (its contracts and
// limits, `/api/board/config`), the live signal (`board_task` and `community` events on
// `/api/events`; a reconnect or `resync` counts as a change to everything), the chain's clock (the
// windows and deadlines are measured on it, not on the browser's), and one transaction runner
// (simulate through the node, the wallet, the receipt; a token approved first when the spender's
// allowance is short; refusals of TaskBoard and Communities in a sentence).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Hex, TransactionReceipt } from "viem";
import { ApiError, type NetworkInfo } from "../lib/api";
import { boardApi, readTask, type BoardConfig, type BoardTask } from "../lib/board";
import { decodeBoardRevert, isExplained } from "../lib/boardCalls";
import { isEth } from "../lib/boardRules";
import { allowanceOf, chainNow } from "../lib/channels";
import { readCommunity, type Community } from "../lib/community";
import { purchaseErrorText } from "../lib/purchase";
import { followEvents, type StreamState } from "../lib/stream";
import { approveCall, sendCall, type Call } from "../lib/tx";
import { errorText, type Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";

export function useBoardConfig() {
  const [config, setConfig] = useState<BoardConfig | null>(null);
  /// `missing`: the node has no task board (404); else the error's text.
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let cancelled = false;
    boardApi.config().then(
      (c) => !cancelled && setConfig(c),
      (e) => {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 404) setMissing(true);
        else setError(errorText(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);
  return { config, error, missing };
}

export interface BoardLive {
  /// Bumped by every event and reconnect: pages re-read what they show.
  version: number;
  /// The last task and community the stream pushed.
  lastTask: BoardTask | null;
  lastCommunity: Community | null;
  /// What the last bump was: a task or community event, or everything (a reconnect, `resync`, a
  /// transaction of ours confirmed).
  last: "task" | "community" | "all";
  stream: StreamState;
  /// Bumps as `all` (after our own transaction: the page re-reads without waiting for the event).
  refresh(): void;
}

/// The board's and communities' events from `/api/events`.
export function useBoardLive(): BoardLive {
  const [state, setState] = useState<Omit<BoardLive, "refresh">>({ version: 0, lastTask: null, lastCommunity: null, last: "all", stream: "connecting" });
  const refresh = useCallback(() => setState((s) => ({ ...s, last: "all", version: s.version + 1 })), []);
  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const bump = (p: Partial<BoardLive> = {}) => setState((s) => ({ ...s, last: "all", ...p, version: s.version + 1 }));
    return followEvents(
      "/api/events",
      {
        board_task: (data) => {
          try {
            bump({ lastTask: readTask(JSON.parse(data)), last: "task" });
          } catch {
            bump();
          }
        },
        community: (data) => {
          try {
            bump({ lastCommunity: readCommunity(JSON.parse(data)), last: "community" });
          } catch {
            bump();
          }
        },
        resync: () => bump(),
      },
      // A (re)connection re-reads what is shown: events may have come while it was closed.
      { onState: (stream) => setState((s) => ({ ...s, stream })), onOpen: () => bump() },
    );
  }, []);
  return useMemo(() => ({ ...state, refresh }), [state, refresh]);
}

/// The chain's time in seconds, read from the latest block whenever `version` changes and counted
/// on by the browser's clock in between (every second), so buttons appear when a window opens.
export function useChainClock(net: NetworkInfo | null, version: number): number {
  const base = useRef<{ chain: number; at: number }>({ chain: Math.floor(Date.now() / 1000), at: Date.now() });
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    if (!net) return;
    let cancelled = false;
    chainNow(net).then(
      (t) => {
        if (cancelled) return;
        base.current = { chain: Number(t), at: Date.now() };
        setNow(Number(t));
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [net, version]);
  useEffect(() => {
    const timer = setInterval(() => setNow(base.current.chain + Math.floor((Date.now() - base.current.at) / 1000)), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export type BoardTxPhase = "approve" | "simulate" | "wallet" | "mining" | "done" | "failed";

export interface BoardTx {
  /// What is being done (`accept:3`, `publish`, `mint:2` …), so the right control shows it.
  action: string;
  phase: BoardTxPhase;
  hash: Hex | null;
  error: string | null;
}

/// A token payment the call needs the spender to pull: approved first when the allowance is short.
export interface BoardPayment {
  token: Hex;
  amount: bigint;
  spender: Hex;
}

export function useBoardTx(net: NetworkInfo | null, wallet: Wallet | null, chainOk: boolean, onDone: () => void) {
  const { t } = useI18n();
  const [tx, setTx] = useState<BoardTx | null>(null);
  const busy = useRef(false);

  const failure = useCallback(
    (e: unknown) => {
      const r = decodeBoardRevert(e instanceof ApiError ? new Error(e.message) : e);
      if (!r) return purchaseErrorText(e, t);
      const sentence = isExplained(r.name) ? t(`board.error.${r.name}`) : t("board.error.generic", { name: r.name, figures: r.figures });
      return t("tx.wouldRevert", { message: sentence });
    },
    [t],
  );

  const run = useCallback(
    async (action: string, call: Call, pay?: BoardPayment | null): Promise<TransactionReceipt | null> => {
      if (!net || !wallet || !chainOk || busy.current) return null;
      busy.current = true;
      const set = (p: Partial<BoardTx>) => setTx((cur) => ({ action, phase: "simulate", hash: null, error: null, ...(cur?.action === action ? cur : {}), ...p }));
      setTx({ action, phase: "simulate", hash: null, error: null });
      try {
        if (pay && pay.amount > 0n && !isEth(pay.token)) {
          const have = await allowanceOf(net, pay.token, wallet.address, pay.spender);
          if (have < pay.amount) {
            set({ phase: "approve" });
            await sendCall(net, wallet, approveCall(pay.token, pay.spender, pay.amount), { onSent: (h) => set({ hash: h }) });
          }
        }
        set({ phase: "simulate", hash: null });
        const receipt = await sendCall(net, wallet, call, {
          onPrompt: () => set({ phase: "wallet" }),
          onSent: (h) => set({ phase: "mining", hash: h }),
        });
        set({ phase: "done", hash: receipt.transactionHash });
        onDone();
        return receipt;
      } catch (e) {
        set({ phase: "failed", error: failure(e) });
        return null;
      } finally {
        busy.current = false;
      }
    },
    [net, wallet, chainOk, failure, onDone],
  );

  /// A failure before any transaction (an upload refused, a form problem).
  const fail = useCallback((action: string, error: string) => setTx({ action, phase: "failed", hash: null, error }), []);
  const busyNow = !!tx && tx.phase !== "done" && tx.phase !== "failed";
  return { tx, run, fail, busy: busyNow };
}

export type BoardTxRunner = ReturnType<typeof useBoardTx>;

/// What every board and community page is handed.
export interface BoardContext {
  net: NetworkInfo | null;
  config: BoardConfig;
  /// The connected account in lower case.
  me: Hex | null;
  /// A wallet on the right chain.
  canAct: boolean;
  live: BoardLive;
  /// The chain's time (seconds).
  now: number;
  tx: BoardTxRunner;
  tokens: Record<string, { symbol: string; decimals: number } | undefined>;
  communities: Community[] | null;
  reloadCommunities(): void;
  onConnect(): void;
  signedIn: boolean;
  authBusy: boolean;
  onSignIn(): void;
}
