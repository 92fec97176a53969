// The assistant's conversation: one WebSocket (`/api/assistant/ws`, the SIWE cookie signs it in)
// carrying the replies and their payments (docs/assistant-payments.md). The state is lib/chat.ts's
// reducer; this hook does the I/O: it sends `start`, signs each checked `pending` amount with the
// channel's session key (at once with auto-pay, when the person presses Pay without), records every
// voucher in localStorage before it is sent, reconnects after a dropped socket and sends `resume`
// (last seq held, the voucher not yet acknowledged), and stops a reply the page refuses to pay.
// The conversation is kept per wallet in localStorage (lib/chat.ts) and restored on reload: a
// reply that was still streaming resumes as after a dropped socket.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import type { Hex } from "viem";
import type { Channel, NetworkInfo } from "../lib/api";
import { assistantApi, parseServerMsg, wsUrl, type AssistantModel, type AssistantModels, type ClientMsg, type ServerMsg, type VoucherMsg } from "../lib/assistant";
import {
  activeReply,
  conversationKey,
  conversationMessages,
  conversationReducer,
  emptyConversation,
  isLive,
  loadConversation,
  newReply,
  resumeMessage,
  saveConversation,
  startMessage,
  type ChannelView,
  type Reply,
} from "../lib/chat";
import { ETH_TOKEN, marketTokenAbi } from "../lib/abi";
import { modelPrices } from "../lib/pricing";
import type { Tokens } from "../lib/services";
import { autopayOn, browserStore, highestSigned, loadChannel, recordVoucher, setAutopay as storeAutopay, type LocalChannel } from "../lib/sessionKeys";
import { reconnectDelay } from "../lib/stream";
import { checkOwed, refusalOf, signVoucher, type Refusal, type VoucherDomain } from "../lib/voucher";
import { errorText, publicClientFor } from "../lib/wallet";

/// The models, where channels pay, and the symbol and decimals of the tokens they are priced in.
export function useAssistantModels(net: NetworkInfo | null, known: Tokens) {
  const [info, setInfo] = useState<AssistantModels | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tokens, setTokens] = useState<Tokens>(known);

  const reload = useCallback(async () => {
    try {
      setInfo(await assistantApi.models());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);
  useEffect(() => void reload(), [reload]);

  useEffect(() => {
    if (!net || !info) return;
    const client = publicClientFor(net);
    for (const m of info.models) {
      const addr = m.pricing.token.toLowerCase();
      if (addr === ETH_TOKEN || tokens[addr] || known[addr]) continue;
      const address = addr as Hex;
      Promise.all([
        client.readContract({ address, abi: marketTokenAbi, functionName: "symbol" }),
        client.readContract({ address, abi: marketTokenAbi, functionName: "decimals" }),
      ]).then(
        ([symbol, decimals]) => setTokens((prev) => ({ ...prev, [addr]: { symbol, decimals } })),
        (e) => setError(errorText(e)),
      );
    }
    // `tokens` is read only to skip known ones
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [net, info, known]);

  const allTokens = useMemo(() => ({ ...tokens, ...known }), [tokens, known]);
  /// The node and the page must agree on the chain and contract a voucher is signed for.
  const domainOk = !net || !info || (net.chainId === info.chainId && net.paymentChannel.toLowerCase() === info.channelContract.toLowerCase());
  return { info, error, tokens: allTokens, reload, domainOk };
}

export type SocketState = "closed" | "connecting" | "open" | "reconnecting";

interface Options {
  info: AssistantModels | null;
  /// The wallet whose conversation this is (kept per wallet and chain).
  address: string | null;
  signedIn: boolean;
  channel: Channel | null;
  local: LocalChannel | null;
  /// The node's billed amount for the channel, when read.
  billed: bigint | null;
  onSigned(): void;
  onChannelClosed(id: string): void;
  /// A reply ended (done or stopped): balances and the account changed.
  onReplyEnded(): void;
  onTermsChanged(): void;
}

export const DEFAULT_MAX_TOKENS = 256;

/// Why the page could not sign: this browser holds no session key for the channel (it was opened
/// elsewhere, or storage was cleared), or signing itself failed.
export type SignError = { kind: "noSessionKey" } | { kind: "failed"; message: string };

export function useAssistant(o: Options) {
  const [conv, dispatch] = useReducer(conversationReducer, emptyConversation);
  const [socket, setSocket] = useState<SocketState>("closed");
  const [autopay, setAutopayState] = useState(() => autopayOn(browserStore));
  const [signError, setSignError] = useState<SignError | null>(null);

  // What the socket's handlers read: the latest state, not the one of the render that opened it.
  const latest = useRef({ conv, o, autopay });
  latest.current = { conv, o, autopay };
  const ws = useRef<WebSocket | null>(null);
  const attempt = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const closing = useRef(false);
  const signing = useRef(new Set<string>());
  const stopped = useRef(new Set<string>());
  const ended = useRef(new Set<string>());

  // The wallet's conversation, restored from localStorage; every change is kept under its owner.
  const owner = o.info && o.address ? conversationKey(o.info.chainId, o.address) : null;
  useEffect(() => {
    const kept = owner ? loadConversation(browserStore, owner) : emptyConversation;
    for (const { reply } of kept.turns) {
      // What was settled before the reload is not stopped or announced again.
      if (reply.phase === "refused") stopped.current.add(reply.requestId);
      if (!isLive(reply) && !reply.pending) ended.current.add(reply.requestId);
    }
    dispatch({ type: "load", owner, turns: kept.turns });
  }, [owner]);
  useEffect(() => saveConversation(browserStore, conv), [conv]);

  const domain = useMemo<VoucherDomain | null>(
    () => (o.info ? { chainId: o.info.chainId, contract: o.info.channelContract } : null),
    [o.info],
  );

  /// What the checks need to know about a reply's channel, read fresh (localStorage holds the vouchers).
  const channelView = useCallback((channelId: string): ChannelView => {
    const { o } = latest.current;
    const local = o.info ? loadChannel(browserStore, o.info.chainId, channelId) : null;
    const ch = o.channel && o.channel.id.toLowerCase() === channelId.toLowerCase() ? o.channel : null;
    return {
      deposit: ch ? BigInt(ch.deposit) : 0n,
      highestSigned: highestSigned(local),
      closed: !!local?.dead || (ch != null && (ch.state === "Closed" || ch.state === "Reclaimed")),
      hasRecord: !!local && local.vouchers.length > 0,
    };
  }, []);

  const sendFrame = useCallback((msg: ClientMsg) => {
    const s = ws.current;
    if (s && s.readyState === WebSocket.OPEN) s.send(JSON.stringify(msg));
    // otherwise the reconnect sends what the state still needs (resume, its voucher, a stop)
  }, []);

  const onMessage = useCallback(
    (msg: ServerMsg) => {
      const rid = msg.requestId ?? activeReply(latest.current.conv)?.requestId;
      const reply = latest.current.conv.turns.find((t) => t.reply.requestId === rid)?.reply;
      const channelId = reply?.channelId ?? latest.current.o.channel?.id;
      dispatch({ type: "server", msg, channel: channelView(channelId ?? "0x") });
      if (msg.type === "error" && msg.code === "channel_closed" && channelId) latest.current.o.onChannelClosed(channelId);
      if (msg.type === "error" && msg.code === "terms_changed") latest.current.o.onTermsChanged();
    },
    [channelView],
  );

  const connect = useCallback(() => {
    if (ws.current || closing.current) return;
    setSocket(attempt.current ? "reconnecting" : "connecting");
    const s = new WebSocket(wsUrl(window.location));
    ws.current = s;
    s.onopen = () => {
      attempt.current = 0;
      setSocket("open");
      // Pick up every reply that still needs the node: start again, or resume after the last seq.
      for (const turn of latest.current.conv.turns) {
        const m = resumeMessage(turn.reply);
        if (m) s.send(JSON.stringify(m));
        if (turn.reply.stopRequested && turn.reply.phase === "streaming") s.send(JSON.stringify({ type: "stop", requestId: turn.reply.requestId }));
      }
    };
    s.onmessage = (ev) => {
      const msg = typeof ev.data === "string" ? parseServerMsg(ev.data) : null;
      if (msg) onMessage(msg);
    };
    s.onclose = () => {
      ws.current = null;
      if (closing.current) return;
      setSocket("reconnecting");
      const delay = reconnectDelay(attempt.current++);
      timer.current = setTimeout(connect, delay);
    };
  }, [onMessage]);

  useEffect(() => {
    if (!o.signedIn) return;
    closing.current = false;
    connect();
    return () => {
      closing.current = true;
      if (timer.current) clearTimeout(timer.current);
      ws.current?.close();
      ws.current = null;
      attempt.current = 0;
      setSocket("closed");
    };
  }, [o.signedIn, connect]);

  /// Signs `amount` on the reply's channel with its session key, records the voucher, sends it.
  const pay = useCallback(
    async (reply: Reply, amount: bigint, seq: number | null) => {
      const key = `${reply.requestId}:${amount}`;
      if (signing.current.has(key) || !domain || !latest.current.o.info) return;
      const chainId = latest.current.o.info.chainId;
      const local = loadChannel(browserStore, chainId, reply.channelId);
      if (!local) {
        setSignError({ kind: "noSessionKey" });
        return;
      }
      if (local.dead) {
        dispatch({ type: "refused", requestId: reply.requestId, refusal: { reason: "channel_closed" } });
        return;
      }
      signing.current.add(key);
      try {
        const signature = await signVoucher(local.sessionKey, domain, reply.channelId, amount);
        const voucher: VoucherMsg = { amount: amount.toString(), signature };
        recordVoucher(browserStore, chainId, reply.channelId, { requestId: reply.requestId, seq, amount: voucher.amount, signature, at: Date.now() });
        latest.current.o.onSigned();
        dispatch({ type: "signed", requestId: reply.requestId, voucher });
        sendFrame({ type: "voucher", requestId: reply.requestId, ...voucher });
      } catch (e) {
        setSignError({ kind: "failed", message: errorText(e) });
      } finally {
        signing.current.delete(key);
      }
    },
    [domain, sendFrame],
  );

  // Auto-pay: each checked chunk is answered at once. A refused reply is stopped, once.
  useEffect(() => {
    for (const { reply } of conv.turns) {
      if (reply.phase === "refused" && !stopped.current.has(reply.requestId)) {
        stopped.current.add(reply.requestId);
        sendFrame({ type: "stop", requestId: reply.requestId });
      }
      if (autopay && reply.pending && (reply.phase === "streaming" || reply.phase === "done")) {
        void pay(reply, reply.pending.amount, reply.pending.seq);
      }
      const over = reply.phase === "done" || reply.phase === "failed" || reply.phase === "refused";
      if (over && !reply.pending && !ended.current.has(reply.requestId)) {
        ended.current.add(reply.requestId);
        latest.current.o.onReplyEnded();
      }
    }
  }, [conv, autopay, pay, sendFrame]);

  const setAutopay = useCallback((on: boolean) => {
    storeAutopay(browserStore, on);
    setAutopayState(on);
  }, []);

  /// Sends `prompt` to `model` on the chosen channel.
  const send = useCallback(
    (prompt: string, model: AssistantModel, maxTokens = DEFAULT_MAX_TOKENS) => {
      const { o, conv } = latest.current;
      if (!o.channel || activeReply(conv)) return;
      const reply = newReply({
        requestId: crypto.randomUUID(),
        channelId: o.channel.id as Hex,
        model: model.id,
        prices: modelPrices(model),
        maxTokens,
        messages: conversationMessages(conv.turns.filter((t) => t.reply.phase === "done"), prompt),
      });
      dispatch({ type: "send", prompt, reply });
      sendFrame(startMessage(reply));
      if (!ws.current) connect();
    },
    [sendFrame, connect],
  );

  /// Starts the turn's request again as a new request (after a top-up, an extension, new prices or
  /// paying what was owed), with `voucher` paying what the channel owes.
  const retry = useCallback(
    (reply: Reply, model: AssistantModel, voucher?: VoucherMsg) => {
      const { o, conv } = latest.current;
      if (!o.channel || activeReply(conv)) return;
      const again = newReply({
        requestId: crypto.randomUUID(),
        channelId: o.channel.id as Hex,
        model: model.id,
        prices: modelPrices(model),
        maxTokens: reply.maxTokens,
        messages: reply.messages,
      });
      dispatch({ type: "send", prompt: reply.messages[reply.messages.length - 1]?.content ?? "", reply: again });
      sendFrame(startMessage(again, voucher));
      if (!ws.current) connect();
    },
    [sendFrame, connect],
  );

  /// Pays what the node says the channel owes (error `owed`), checked against the node's account,
  /// then starts the request again carrying that voucher.
  const payOwedAndRetry = useCallback(
    async (reply: Reply, model: AssistantModel, owed: bigint, billed: bigint | null): Promise<Refusal | null> => {
      const { o } = latest.current;
      if (!domain || !o.info) return null;
      const check = checkOwed(owed, channelView(reply.channelId), billed);
      if (!check.ok) return refusalOf(check);
      const local = loadChannel(browserStore, o.info.chainId, reply.channelId);
      if (!local) {
        setSignError({ kind: "noSessionKey" });
        return null;
      }
      const signature = await signVoucher(local.sessionKey, domain, reply.channelId, owed);
      recordVoucher(browserStore, o.info.chainId, reply.channelId, { requestId: null, seq: null, amount: owed.toString(), signature, at: Date.now() });
      o.onSigned();
      retry(reply, model, { amount: owed.toString(), signature });
      return null;
    },
    [domain, channelView, retry],
  );

  const stop = useCallback(
    (reply: Reply) => {
      dispatch({ type: "stop", requestId: reply.requestId });
      sendFrame({ type: "stop", requestId: reply.requestId });
    },
    [sendFrame],
  );

  // A chunk still waiting for its voucher (manual pay): a new reply would find the channel owing.
  const unpaid = conv.turns.find((t) => t.reply.pending && t.reply.phase !== "refused")?.reply ?? null;

  return {
    conv,
    active: activeReply(conv),
    unpaid,
    socket,
    autopay,
    setAutopay,
    signError,
    clearSignError: () => setSignError(null),
    send,
    retry,
    stop,
    pay: (reply: Reply) => (reply.pending ? void pay(reply, reply.pending.amount, reply.pending.seq) : undefined),
    payOwedAndRetry,
    clear: () => dispatch({ type: "clear" }),
  };
}

export type Assistant = ReturnType<typeof useAssistant>;
