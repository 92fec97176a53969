// The data market's page state: the sellers in the registry (`/api/data/sellers`, with their order
// counts), each seller's menu read live over its WebSocket, one purchase at a time (escrow on chain
// — approve first when a token's allowance is short —, then the transfer: every chunk verified,
// acknowledged with a voucher signed by a session key generated here; pause closes the connection
// and resume reconnects from the last ACK; stop sends `exit`), and the buyer's orders
// (`/api/data/orders?buyer=`) with settle and rate. The DataMarket's logs on chain trigger a re-read
// of the orders.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { api, type DataOrder, type DataSeller, type NetworkInfo } from "../lib/api";
import { dataMarketAbi } from "../lib/abi";
import { allowanceOf, chainNow } from "../lib/channels";
import {
  BuyerSession,
  connectWebSocket,
  DataStreamError,
  ItemBuffer,
  makeOrder,
  paidFor,
  websocketUrl,
  type Item,
  type MarketRef,
  type Menu,
  type Rating,
} from "../lib/datastream";
import {
  isEthToken,
  loadOrder,
  openOrderCall,
  ORDER_SECONDS,
  randomNonce,
  rateCall,
  rateOf,
  recordAck,
  saveOrder,
  settleCall,
  type LocalOrder,
} from "../lib/dataMarket";
import { purchaseErrorText } from "../lib/purchase";
import { browserStore } from "../lib/sessionKeys";
import { approveCall, sendCall } from "../lib/tx";
import { errorText, publicClientFor, type Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";

export type MenuState = { status: "loading" } | { status: "ok"; menu: Menu } | { status: "error"; error: string };

export type PurchasePhase =
  | "approve"
  | "simulate"
  | "wallet"
  | "mining"
  | "connecting"
  | "escrow"
  | "streaming"
  | "pausing"
  | "paused"
  | "stopping"
  | "stopped"
  | "complete"
  | "failed";

/// A refusal or failure as the page shows it: the protocol's code (when there is one) and a sentence.
export interface ShownError {
  code: string | null;
  message: string;
  /// The seller sent it.
  peer: boolean;
}

export interface Purchase {
  seller: DataSeller;
  item: Item;
  orderId: Hex | null;
  phase: PurchasePhase;
  /// The transaction being sent (approve, then openOrder).
  txHash: Hex | null;
  escrowTx: Hex | null;
  received: number;
  total: number;
  /// The last ACK's bytes (what the seller can claim).
  acked: number;
  /// `price × acked / size`.
  paid: bigint;
  /// Bytes per second over the last seconds.
  rate: number;
  error: ShownError | null;
  /// The item's bytes, checked whole against the menu's SHA-256.
  blobUrl: string | null;
  stoppedBySeller: boolean;
}

interface Options {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  onBalancesChanged(): void;
}

/// Reads `read` until `done` holds, at most `tries` times, a second apart (the indexer follows
/// the chain within a block or two).
async function follow<T>(read: () => Promise<T>, done: (v: T) => boolean, tries = 60): Promise<T | null> {
  for (let i = 0; i < tries; i++) {
    try {
      const v = await read();
      if (done(v)) return v;
    } catch {
      // not indexed yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return null;
}

/// A protocol error keeps its code and who sent it; a transaction's failure becomes its sentence.
function shownError(e: unknown, t: Parameters<typeof purchaseErrorText>[1]): ShownError {
  if (e instanceof DataStreamError) return { code: e.code, message: e.message, peer: e.peer };
  return { code: null, message: purchaseErrorText(e, t), peer: false };
}

/// The seller still serves the order on an earlier connection (`OrderBusy`): a resume right after a
/// pause can meet it until the seller sees that connection closed.
function isBusy(e: unknown): boolean {
  return e instanceof DataStreamError && e.peer && e.code === "order_refused" && /being served on another connection/.test(e.message);
}

function streamErrorText(e: unknown): string {
  if (e instanceof DataStreamError) return `${e.message} (${e.code})`;
  return errorText(e);
}

export function useDataMarket({ net, wallet, chainOk, onBalancesChanged }: Options) {
  const { t } = useI18n();
  const buyer = wallet?.address ?? null;
  const market: MarketRef | null = useMemo(
    () => (net?.dataMarket ? { chainId: net.chainId, address: net.dataMarket } : null),
    [net],
  );

  // ------------------------------------------------------------ sellers and menus
  const [sellers, setSellers] = useState<DataSeller[] | null>(null);
  const [sellersError, setSellersError] = useState<string | null>(null);
  const [orderCounts, setOrderCounts] = useState<Record<string, number>>({});
  const [menus, setMenus] = useState<Record<string, MenuState>>({});

  const reloadSellers = useCallback(async (): Promise<DataSeller[] | null> => {
    try {
      const list = (await api.dataSellers()).filter((s) => s.registered);
      setSellers(list);
      setSellersError(null);
      const counts = await Promise.all(list.map((s) => api.dataOrders({ seller: s.address }).then((o) => o.length, () => -1)));
      setOrderCounts(Object.fromEntries(list.map((s, i) => [s.address.toLowerCase(), counts[i]])));
      return list;
    } catch (e) {
      setSellersError(errorText(e));
      return null;
    }
  }, []);

  useEffect(() => {
    if (market) void reloadSellers();
  }, [market, reloadSellers]);

  /// Says hello to the seller (a throwaway key signs it) and keeps its signed menu.
  const readMenu = useCallback(
    async (seller: DataSeller) => {
      if (!market) return;
      const key = seller.address.toLowerCase();
      setMenus((m) => ({ ...m, [key]: { status: "loading" } }));
      try {
        const conn = await connectWebSocket(websocketUrl(seller.endpoint, window.location.protocol));
        const session = await BuyerSession.open(conn, {
          market,
          account: buyer ?? privateKeyToAccount(generatePrivateKey()).address,
          sessionKey: generatePrivateKey(),
          seller: seller.address,
          sellerKey: seller.messageSigner,
        });
        session.close();
        setMenus((m) => ({ ...m, [key]: { status: "ok", menu: session.menu } }));
      } catch (e) {
        setMenus((m) => ({ ...m, [key]: { status: "error", error: streamErrorText(e) } }));
      }
    },
    [market, buyer],
  );

  // ------------------------------------------------------------ my orders
  const [orders, setOrders] = useState<DataOrder[] | null>(null);
  const [ordersError, setOrdersError] = useState<string | null>(null);
  const [chainTime, setChainTime] = useState<number>(0);

  const reloadOrders = useCallback(async (): Promise<DataOrder[] | null> => {
    if (!buyer) return null;
    try {
      const list = await api.dataOrders({ buyer });
      setOrders(list);
      setOrdersError(null);
      if (net) chainNow(net).then((n) => setChainTime(Number(n)), () => undefined);
      return list;
    } catch (e) {
      setOrdersError(errorText(e));
      return null;
    }
  }, [buyer, net]);

  useEffect(() => {
    setOrders(null);
    void reloadOrders();
  }, [reloadOrders]);

  /// Re-reads the orders until `orderId` is in `done`'s state (the indexer catches up).
  const followOrder = useCallback(
    (orderId: Hex, done: (o: DataOrder) => boolean, tries = 60) =>
      follow(
        async () => (await reloadOrders())?.find((o) => o.id === orderId.toLowerCase()) ?? null,
        (o) => o !== null && done(o),
        tries,
      ),
    [reloadOrders],
  );

  // The market's logs: a settlement, an end or a rating of one of my orders re-reads the list.
  const myIds = useMemo(() => new Set<string>((orders ?? []).map((o) => o.id)), [orders]);
  const myIdsRef = useRef(myIds);
  myIdsRef.current = myIds;
  useEffect(() => {
    if (!net || !market || !buyer) return;
    const unwatch = publicClientFor(net).watchContractEvent({
      address: market.address,
      abi: dataMarketAbi,
      onLogs: (logs) => {
        const mine = logs.some((l) => {
          const id = (l.args as { orderId?: string }).orderId?.toLowerCase();
          return id !== undefined && myIdsRef.current.has(id);
        });
        if (mine) void reloadOrders().then(() => setTimeout(() => void reloadOrders(), 1500));
      },
      onError: () => undefined,
    });
    return unwatch;
  }, [net, market, buyer, reloadOrders]);

  // ------------------------------------------------------------ the purchase
  const [purchase, setPurchase] = useState<Purchase | null>(null);
  const sessionRef = useRef<BuyerSession | null>(null);
  const bufferRef = useRef<ItemBuffer>(new ItemBuffer());
  const localRef = useRef<LocalOrder | null>(null);
  const pausingRef = useRef(false);
  const samplesRef = useRef<{ t: number; bytes: number }[]>([]);
  const ratingRef = useRef<Rating | null>(null);
  const frameRef = useRef<number | null>(null);
  const pendingRef = useRef<Partial<Purchase> | null>(null);

  const patch = useCallback((p: Partial<Purchase>) => setPurchase((cur) => (cur ? { ...cur, ...p } : cur)), []);

  /// Progress comes per chunk; the page redraws at most once a frame.
  const patchSoon = useCallback(
    (p: Partial<Purchase>) => {
      pendingRef.current = { ...pendingRef.current, ...p };
      if (frameRef.current !== null) return;
      frameRef.current = requestAnimationFrame(() => {
        frameRef.current = null;
        const next = pendingRef.current;
        pendingRef.current = null;
        if (next) patch(next);
      });
    },
    [patch],
  );

  const flush = useCallback(() => {
    if (frameRef.current !== null) cancelAnimationFrame(frameRef.current);
    frameRef.current = null;
    const next = pendingRef.current;
    pendingRef.current = null;
    if (next) patch(next);
  }, [patch]);

  const setRating = useCallback((r: Rating | null) => {
    ratingRef.current = r;
    const local = localRef.current;
    if (local) {
      localRef.current = { ...local, rating: r };
      saveOrder(browserStore, localRef.current);
    }
  }, []);

  /// Connects (resuming from the last ACK when there is one) and receives the item.
  const transfer = useCallback(async (attempt = 0): Promise<void> => {
    const local = localRef.current;
    if (!local || !market || !local.escrowTx) return;
    const { order } = local;
    pausingRef.current = false;
    samplesRef.current = [];
    flush();
    patch({ phase: "connecting", error: null });
    let session: BuyerSession | null = null;
    try {
      const conn = await connectWebSocket(websocketUrl(local.endpoint, window.location.protocol));
      session = await BuyerSession.open(conn, {
        market,
        account: order.buyer,
        sessionKey: local.sessionKey,
        seller: order.seller,
        sellerKey: local.sellerKey,
        resume: local.lastAck,
      });
      sessionRef.current = session;
      if (pausingRef.current) {
        session.close();
        throw new DataStreamError("closed", "paused");
      }
      const start = local.lastAck?.received ?? 0;
      patch({ phase: "escrow" });
      const outcome = await session.run(order, local.escrowTx, bufferRef.current, {
        keepAck: (ack) => {
          localRef.current = recordAck(browserStore, market.chainId, ack) ?? localRef.current;
        },
        onProgress: (p) => {
          const now = performance.now();
          const samples = samplesRef.current;
          samples.push({ t: now, bytes: p.received });
          while (samples.length > 2 && now - samples[0].t > 3000) samples.shift();
          const acked = p.ack?.received ?? 0;
          patchSoon({
            received: p.received,
            acked,
            paid: paidFor(order.price, acked, order.size),
            rate: rateOf(samples),
            ...(p.received > start ? { phase: "streaming" as const } : {}),
          });
        },
        rating: () => ratingRef.current,
      });
      flush();
      if (outcome.complete) {
        const blobUrl = URL.createObjectURL(bufferRef.current.blob());
        patch({ phase: "complete", received: outcome.received, blobUrl, rate: 0 });
      } else {
        patch({ phase: "stopped", received: outcome.received, stoppedBySeller: outcome.stoppedBySeller, rate: 0 });
      }
      const settledOrEnded = (o: DataOrder) => o.state !== "Open";
      void followOrder(order.orderId, settledOrEnded).then(() => onBalancesChanged());
    } catch (e) {
      flush();
      if (pausingRef.current) {
        patch({ phase: "paused", rate: 0 });
      } else if (attempt < 5 && isBusy(e)) {
        // The seller has not yet seen the previous connection close (one connection per order).
        sessionRef.current = null;
        await new Promise((r) => setTimeout(r, 500));
        return transfer(attempt + 1);
      } else {
        patch({ phase: "failed", rate: 0, error: shownError(e, t) });
      }
    } finally {
      sessionRef.current = null;
    }
  }, [market, patch, patchSoon, flush, followOrder, onBalancesChanged, t]);

  /// Escrows `item` from `seller` (approving a token first when needed), then receives it.
  const buy = useCallback(
    async (seller: DataSeller, item: Item) => {
      if (!net || !wallet || !chainOk || !market) return;
      if (purchase && ["approve", "simulate", "wallet", "mining", "connecting", "escrow", "streaming", "stopping", "pausing"].includes(purchase.phase)) return;
      if (purchase?.blobUrl) URL.revokeObjectURL(purchase.blobUrl);
      bufferRef.current = new ItemBuffer();
      ratingRef.current = null;
      setPurchase({
        seller,
        item,
        orderId: null,
        phase: "simulate",
        txHash: null,
        escrowTx: null,
        received: 0,
        total: item.size,
        acked: 0,
        paid: 0n,
        rate: 0,
        error: null,
        blobUrl: null,
        stoppedBySeller: false,
      });
      try {
        const sessionKey = generatePrivateKey();
        const startedFrom = Number(await chainNow(net));
        const order = makeOrder(
          market,
          { buyer: wallet.address, seller: seller.address, ackSigner: privateKeyToAccount(sessionKey).address },
          item,
          startedFrom,
          randomNonce(),
          startedFrom + ORDER_SECONDS,
        );
        // Kept before the transaction, so a page closed while it is mined never loses the key.
        const local: LocalOrder = {
          chainId: market.chainId,
          market: market.address,
          endpoint: seller.endpoint,
          sellerKey: seller.messageSigner,
          sessionKey,
          order,
          escrowTx: null,
          lastAck: null,
          rating: null,
          ratedOnChain: false,
        };
        saveOrder(browserStore, local);
        localRef.current = local;
        patch({ orderId: order.orderId });
        if (!isEthToken(item.token)) {
          const have = await allowanceOf(net, item.token, wallet.address, market.address);
          if (have < item.price) {
            patch({ phase: "approve" });
            await sendCall(net, wallet, approveCall(item.token, market.address, item.price), { onSent: (h) => patch({ txHash: h }) });
          }
        }
        patch({ phase: "simulate", txHash: null });
        const receipt = await sendCall(net, wallet, openOrderCall(market.address, order), {
          onPrompt: () => patch({ phase: "wallet" }),
          onSent: (h) => patch({ phase: "mining", txHash: h }),
        });
        localRef.current = { ...local, escrowTx: receipt.transactionHash };
        saveOrder(browserStore, localRef.current);
        patch({ escrowTx: receipt.transactionHash });
        onBalancesChanged();
        void reloadOrders();
      } catch (e) {
        patch({ phase: "failed", error: shownError(e, t) });
        return;
      }
      await transfer();
    },
    [net, wallet, chainOk, market, purchase, patch, transfer, onBalancesChanged, reloadOrders, t],
  );

  /// Closes the connection without `exit`: the order stays open, `resume` continues.
  const pause = useCallback(() => {
    pausingRef.current = true;
    patch({ phase: "pausing" });
    sessionRef.current?.close();
  }, [patch]);

  const resume = useCallback(() => void transfer(0), [transfer]);

  /// `exit` (stopped): the seller ends the order with the last ACK; it settles for what was received.
  const stop = useCallback(() => {
    if (!sessionRef.current) return;
    patch({ phase: "stopping" });
    sessionRef.current.stop();
  }, [patch]);

  const dismiss = useCallback(() => {
    setPurchase((cur) => {
      if (cur?.blobUrl) URL.revokeObjectURL(cur.blobUrl);
      return null;
    });
    localRef.current = null;
  }, []);

  // ------------------------------------------------------------ settle and rate
  const [tx, setTx] = useState<{ action: "settle" | "rate"; orderId: string; hash?: Hex } | null>(null);
  const [txError, setTxError] = useState<string | null>(null);

  const send = useCallback(
    async (action: "settle" | "rate", orderId: Hex, call: ReturnType<typeof settleCall>, done: (o: DataOrder) => boolean) => {
      if (!net || !wallet || !chainOk || tx) return false;
      setTxError(null);
      setTx({ action, orderId });
      try {
        await sendCall(net, wallet, call, { onSent: (h) => setTx({ action, orderId, hash: h }) });
        onBalancesChanged();
        await followOrder(orderId, done, 30);
        return true;
      } catch (e) {
        setTxError(purchaseErrorText(e, t));
        return false;
      } finally {
        setTx(null);
      }
    },
    [net, wallet, chainOk, tx, onBalancesChanged, followOrder, t],
  );

  const settle = useCallback(
    (orderId: Hex) => (market ? send("settle", orderId, settleCall(market.address, orderId), (o) => o.state === "Settled") : Promise.resolve(false)),
    [market, send],
  );

  const [ratedHere, setRatedHere] = useState<Record<string, number>>({});
  const rate = useCallback(
    async (orderId: Hex, score: number, comment: string) => {
      if (!market) return false;
      const seller = orders?.find((o) => o.id === orderId.toLowerCase())?.seller.toLowerCase();
      const countOf = (list: DataSeller[] | null) => list?.find((s) => s.address.toLowerCase() === seller)?.rating.count ?? 0;
      const before = countOf(sellers);
      const ok = await send("rate", orderId, rateCall(market.address, orderId, score, comment), () => true);
      if (ok) {
        setRatedHere((r) => ({ ...r, [orderId.toLowerCase()]: score }));
        const local = loadOrder(browserStore, market.chainId, orderId);
        if (local) saveOrder(browserStore, { ...local, ratedOnChain: true });
        // The seller's rating as indexed: re-read until the indexer has applied this one.
        void follow(reloadSellers, (list) => countOf(list) > before, 30);
      }
      return ok;
    },
    [market, send, reloadSellers, orders, sellers],
  );

  /// What this browser knows of an order (its item's name, the rating it sent).
  const localOrder = useCallback((orderId: string) => (market ? loadOrder(browserStore, market.chainId, orderId) : null), [market]);

  return {
    market,
    sellers,
    sellersError,
    orderCounts,
    reloadSellers,
    menus,
    readMenu,
    purchase,
    buy,
    pause,
    resume,
    stop,
    dismiss,
    setRating,
    orders,
    ordersError,
    reloadOrders,
    chainTime,
    settle,
    rate,
    ratedHere,
    tx,
    txError,
    localOrder,
  };
}

export type DataMarketState = ReturnType<typeof useDataMarket>;
