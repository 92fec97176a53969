// The payer's channels with the assistant: the list the node indexed (`/api/channels?payer=`, those
// paying the assistant's payee), what this browser keeps for each (session key, vouchers signed),
// the chosen and default channel, the assistant's account of it (billed / accepted / replies), and
// the transactions: open (approve first when an ERC-20 allowance is short, with a fresh session key
// as signer), top up, extend and reclaim after expiry.
import { useCallback, useEffect, useMemo, useState } from "react";
import type { Hex } from "viem";
import { api, type Channel, type NetworkInfo } from "../lib/api";
import { assistantApi, type AssistantAccount, type AssistantModels } from "../lib/assistant";
import { allowanceOf, chainNow, expiryAfter, extendCall, isEth, openCall, reclaimCall, topUpCall, type ChannelParties } from "../lib/channels";
import { purchaseErrorText } from "../lib/purchase";
import {
  browserStore,
  defaultChannel,
  freshSessionKey,
  loadChannel,
  markDead,
  saveChannel,
  setDefaultChannel,
  type LocalChannel,
} from "../lib/sessionKeys";
import { approveCall, sendCall } from "../lib/tx";
import { channelIdOf } from "../lib/voucher";
import { errorText, type Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";

export type TxAction = "open" | "topUp" | "extend" | "reclaim";
export type TxStep = "approve" | "simulate" | "wallet" | "mining" | "indexing";

export interface TxState {
  action: TxAction;
  step: TxStep;
  hash?: Hex;
}

interface Options {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  info: AssistantModels | null;
  onBalancesChanged(): void;
}

/// Reads `read` until `done` holds for its answer (the indexer catches up with a mined transaction
/// within a block or two), at most `tries` times.
async function untilIndexed<T>(read: () => Promise<T>, done: (v: T) => boolean, tries = 30): Promise<T | null> {
  for (let i = 0; i < tries; i++) {
    try {
      const v = await read();
      if (done(v)) return v;
    } catch {
      // not indexed yet (404)
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
}

/// The channels of `payer` that pay `payee`, open ones first, then newest.
export function assistantChannels(all: readonly Channel[], payee: string): Channel[] {
  const rank = (c: Channel) => (c.state === "Open" ? 0 : c.state === "Expired" ? 1 : 2);
  return all.filter((c) => c.payee.toLowerCase() === payee.toLowerCase()).sort((a, b) => rank(a) - rank(b));
}

export function useChannels({ net, wallet, chainOk, info, onBalancesChanged }: Options) {
  const { t } = useI18n();
  const payer = wallet?.address ?? null;
  const chainId = info?.chainId ?? net?.chainId ?? 0;
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [selectedId, setSelectedId] = useState<Hex | null>(null);
  const [defaultId, setDefaultIdState] = useState<Hex | null>(null);
  const [account, setAccount] = useState<AssistantAccount | null>(null);
  const [tx, setTx] = useState<TxState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  // Bumped when this browser's record of a channel changes (a voucher signed, a channel dead).
  const [localVersion, setLocalVersion] = useState(0);

  const reload = useCallback(async () => {
    if (!payer || !info) return;
    try {
      const all = await api.channels({ payer });
      setChannels(assistantChannels(all, info.payee));
      setLoadError(null);
    } catch (e) {
      setLoadError(errorText(e));
    }
  }, [payer, info]);

  useEffect(() => {
    setChannels(null);
    setAccount(null);
    if (!payer || !info) return;
    const d = defaultChannel(browserStore, chainId, payer);
    setDefaultIdState(d);
    setSelectedId(d);
    void reload();
  }, [payer, info, chainId, reload]);

  // Choose the default channel, else the first open one this browser can pay from.
  useEffect(() => {
    if (!channels || (selectedId && channels.some((c) => c.id === selectedId))) return;
    const payable = channels.find((c) => c.state === "Open" && loadChannel(browserStore, chainId, c.id));
    setSelectedId((payable?.id as Hex | undefined) ?? (channels[0]?.id as Hex | undefined) ?? null);
  }, [channels, selectedId, chainId]);

  const selected = useMemo(() => channels?.find((c) => c.id === selectedId) ?? null, [channels, selectedId]);
  const local: LocalChannel | null = useMemo(
    () => (selected ? loadChannel(browserStore, chainId, selected.id) : null),
    // localVersion: re-read after this browser signs or marks the channel dead
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [selected, chainId, localVersion],
  );

  const reloadAccount = useCallback(async () => {
    if (!selectedId) return null;
    try {
      const a = await assistantApi.account(selectedId);
      setAccount(a);
      return a;
    } catch {
      setAccount(null); // a channel the assistant has not billed yet
      return null;
    }
  }, [selectedId]);

  useEffect(() => {
    setAccount(null);
    void reloadAccount();
  }, [reloadAccount]);

  /// Re-reads one channel from the node and puts it in the list.
  const reloadChannel = useCallback(async (id: string): Promise<Channel | null> => {
    try {
      const ch = await api.channel(id);
      setChannels((prev) => (prev ? prev.map((c) => (c.id === ch.id ? ch : c)) : prev));
      return ch;
    } catch {
      return null;
    }
  }, []);

  const localChanged = useCallback(() => setLocalVersion((v) => v + 1), []);

  /// The node says the channel is closed on chain: re-read it, and never pay it again.
  const channelClosed = useCallback(
    async (id: string) => {
      markDead(browserStore, chainId, id);
      localChanged();
      await reloadChannel(id);
    },
    [chainId, localChanged, reloadChannel],
  );

  const setDefault = useCallback(
    (id: Hex | null) => {
      if (!payer) return;
      setDefaultChannel(browserStore, chainId, payer, id);
      setDefaultIdState(id);
    },
    [payer, chainId],
  );

  const run = useCallback(
    async (action: TxAction, body: (step: (s: TxStep, hash?: Hex) => void) => Promise<void>) => {
      if (!net || !wallet || !chainOk || tx) return false;
      setError(null);
      const step = (s: TxStep, hash?: Hex) => setTx({ action, step: s, hash });
      step("simulate");
      try {
        await body(step);
        onBalancesChanged();
        return true;
      } catch (e) {
        setError(purchaseErrorText(e, t));
        return false;
      } finally {
        setTx(null);
      }
    },
    [net, wallet, chainOk, tx, onBalancesChanged, t],
  );

  const send = useCallback(
    async (call: Parameters<typeof sendCall>[2], step: (s: TxStep, hash?: Hex) => void) => {
      step("simulate");
      return sendCall(net!, wallet!, call, { onPrompt: () => step("wallet"), onSent: (h) => step("mining", h) });
    },
    [net, wallet],
  );

  /// Opens a channel of `amount` in `token` for `seconds`, signed for by a fresh session key.
  const create = useCallback(
    (token: Hex, amount: bigint, seconds: number) =>
      run("open", async (step) => {
        if (!info || !wallet || !net) return;
        const contract = info.channelContract;
        const { sessionKey, signer, salt } = freshSessionKey();
        const parties: ChannelParties = { payee: info.payee, token, signer, salt };
        const id = channelIdOf({ payer: wallet.address, ...parties }, { chainId: info.chainId, contract });
        // Kept before the transaction, so a page closed while it is mined never loses the key.
        saveChannel(browserStore, {
          id,
          chainId: info.chainId,
          payer: wallet.address,
          payee: info.payee,
          token,
          salt,
          signer,
          sessionKey,
          vouchers: [],
          dead: false,
        });
        if (!isEth(token)) {
          const have = await allowanceOf(net, token, wallet.address, contract);
          if (have < amount) {
            step("approve");
            await sendCall(net, wallet, approveCall(token, contract, amount), { onSent: (h) => step("approve", h) });
          }
        }
        const expiry = expiryAfter(await chainNow(net), seconds);
        await send(openCall(contract, parties, amount, expiry), step);
        step("indexing");
        await untilIndexed(() => api.channel(id), () => true);
        // The list first: a selection the list does not hold yet would be replaced by the first
        // payable channel before the reload lands.
        await reload();
        setDefault(id);
        setSelectedId(id);
      }),
    [run, info, wallet, net, send, setDefault, reload],
  );

  const partiesOf = (ch: Channel): ChannelParties => ({ payee: ch.payee, token: ch.token, signer: ch.signer, salt: ch.salt as Hex });

  const topUp = useCallback(
    (amount: bigint) =>
      run("topUp", async (step) => {
        if (!selected || !info || !wallet || !net) return;
        if (!isEth(selected.token)) {
          const have = await allowanceOf(net, selected.token, wallet.address, info.channelContract);
          if (have < amount) {
            step("approve");
            await sendCall(net, wallet, approveCall(selected.token, info.channelContract, amount), { onSent: (h) => step("approve", h) });
          }
        }
        await send(topUpCall(info.channelContract, partiesOf(selected), amount), step);
        step("indexing");
        const before = BigInt(selected.deposit);
        const ch = await untilIndexed(() => api.channel(selected.id), (c) => BigInt(c.deposit) > before);
        if (ch) setChannels((prev) => prev?.map((c) => (c.id === ch.id ? ch : c)) ?? prev);
      }),
    [run, selected, info, wallet, net, send],
  );

  const extend = useCallback(
    (seconds: number) =>
      run("extend", async (step) => {
        if (!selected || !info || !net) return;
        const now = await chainNow(net);
        const from = BigInt(selected.expiry) > now ? BigInt(selected.expiry) : now;
        await send(extendCall(info.channelContract, partiesOf(selected), expiryAfter(from, seconds)), step);
        step("indexing");
        const ch = await untilIndexed(() => api.channel(selected.id), (c) => c.expiry > selected.expiry);
        if (ch) setChannels((prev) => prev?.map((c) => (c.id === ch.id ? ch : c)) ?? prev);
      }),
    [run, selected, info, net, send],
  );

  const reclaim = useCallback(
    () =>
      run("reclaim", async (step) => {
        if (!selected || !info) return;
        await send(reclaimCall(info.channelContract, partiesOf(selected)), step);
        markDead(browserStore, chainId, selected.id);
        localChanged();
        step("indexing");
        const ch = await untilIndexed(() => api.channel(selected.id), (c) => c.state === "Reclaimed");
        if (ch) setChannels((prev) => prev?.map((c) => (c.id === ch.id ? ch : c)) ?? prev);
      }),
    [run, selected, info, send, chainId, localChanged],
  );

  return {
    channels,
    loadError,
    selected,
    selectedId,
    select: setSelectedId,
    defaultId,
    setDefault,
    local,
    localChanged,
    account,
    reloadAccount,
    reload,
    reloadChannel,
    channelClosed,
    tx,
    error,
    clearError: () => setError(null),
    create,
    topUp,
    extend,
    reclaim,
  };
}

export type Channels = ReturnType<typeof useChannels>;
