// The assistant's page: the chat beside the channel panel (on a phone, two tabs). It owns the
// assistant's hooks — the models, the channels, the conversation — so the market page loads none of
// them.
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { NetworkInfo } from "../lib/api";
import type { Tokens } from "../lib/services";
import type { Wallet } from "../lib/wallet";
import { useAssistant, useAssistantModels } from "../hooks/useAssistant";
import { useChannels } from "../hooks/useChannels";
import { useI18n } from "../i18n-context";
import { Chat } from "./Chat";
import { ChannelPanel } from "./ChannelPanel";

interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  signedIn: boolean;
  tokens: Tokens;
  authBusy: boolean;
  onSignIn(): void;
  onConnect(): void;
  onBalancesChanged(): void;
}

type Tab = "chat" | "channel";

const NARROW = "(max-width: 800px)";

/// The page is phone-width: chat and channel become two tabs.
function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => typeof window !== "undefined" && !!window.matchMedia?.(NARROW).matches);
  useEffect(() => {
    const mq = window.matchMedia?.(NARROW);
    if (!mq) return;
    const on = () => setNarrow(mq.matches);
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, []);
  return narrow;
}

export function AssistantPage(p: Props) {
  const { t } = useI18n();
  const models = useAssistantModels(p.net, p.tokens);
  const ch = useChannels({ net: p.net, wallet: p.wallet, chainOk: p.chainOk, info: models.info, onBalancesChanged: p.onBalancesChanged });
  const [modelId, setModelId] = useState<string | null>(null);
  const model = models.info?.models.find((m) => m.id === modelId) ?? models.info?.models[0] ?? null;
  const billed = ch.account ? BigInt(ch.account.billed) : null;
  const { reloadAccount, reloadChannel, selectedId, localChanged, channelClosed } = ch;
  const reloadModels = models.reload;
  const onReplyEnded = useCallback(() => {
    void reloadAccount();
    if (selectedId) void reloadChannel(selectedId);
  }, [reloadAccount, reloadChannel, selectedId]);
  const chat = useAssistant({
    info: models.info,
    address: p.wallet?.address ?? null,
    signedIn: p.signedIn,
    channel: ch.selected,
    local: ch.local,
    billed,
    onSigned: localChanged,
    onChannelClosed: (id) => void channelClosed(id),
    onReplyEnded,
    onTermsChanged: () => void reloadModels(),
  });
  const [tab, setTab] = useState<Tab>("chat");
  const narrow = useNarrow();
  const paneRole = { role: narrow ? ("tabpanel" as const) : ("region" as const) };
  const [topUpHint, setTopUpHint] = useState<bigint | null>(null);
  const [extendHint, setExtendHint] = useState(0);
  const tabs = useRef<Record<Tab, HTMLButtonElement | null>>({ chat: null, channel: null });
  const token = useMemo(() => (model ? models.tokens[model.pricing.token.toLowerCase()] : undefined), [model, models.tokens]);

  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const next: Tab = tab === "chat" ? "channel" : "chat";
    setTab(next);
    tabs.current[next]?.focus();
  };

  return (
    <section className="section assistant" aria-labelledby="assistant-title">
      <h1 id="assistant-title" tabIndex={-1}>
        {t("assistant.title")}
      </h1>
      <p className="lead">{t("assistant.lead")}</p>
      {models.error && (
        <p className="notice notice-error" role="alert">
          {t("assistant.unavailable", { message: models.error })}
        </p>
      )}
      {!models.domainOk && (
        <p className="notice notice-error" role="alert">
          {t("assistant.domainMismatch")}
        </p>
      )}
      {!p.wallet ? (
        <div className="notice">
          <p>{t("assistant.connectFirst")}</p>
          <button type="button" className="btn btn-primary" onClick={p.onConnect}>
            {t("wallet.connect")}
          </button>
        </div>
      ) : (
        !p.signedIn && (
          <div className="notice">
            <p>{t("assistant.signInFirst")}</p>
            <button type="button" className="btn btn-primary" onClick={p.onSignIn} disabled={p.authBusy || !p.chainOk}>
              {t("auth.signIn")}
            </button>
          </div>
        )
      )}
      {p.signedIn && (
        <p className="muted live" data-testid="assistant-socket">
          <span aria-hidden="true">●</span> {t(`assistant.socket.${chat.socket}`)}
        </p>
      )}
      {narrow && (
        <div className="tabs" role="tablist" aria-label={t("assistant.tabs")} onKeyDown={onTabKey}>
          {(["chat", "channel"] as const).map((id) => (
            <button
              key={id}
              ref={(el) => {
                tabs.current[id] = el;
              }}
              type="button"
              role="tab"
              id={`tab-${id}`}
              aria-controls={`pane-${id}`}
              aria-selected={tab === id}
              tabIndex={tab === id ? 0 : -1}
              className="tab"
              onClick={() => setTab(id)}
            >
              {t(`assistant.tab.${id}`)}
            </button>
          ))}
        </div>
      )}
      <div className="assistant-layout" data-tab={tab}>
        <div id="pane-chat" className="pane pane-chat" {...paneRole} aria-labelledby={narrow ? "tab-chat" : "chat-title"}>
          {models.info && models.info.models.length === 0 && <p className="muted">{t("assistant.noModels")}</p>}
          <Chat
            models={models.info?.models ?? []}
            model={model}
            onModel={setModelId}
            token={token}
            channel={ch.selected}
            canSign={!!ch.local && models.domainOk}
            dead={!!ch.local?.dead}
            billed={billed}
            chat={chat}
            signedIn={p.signedIn}
            onTopUp={(min) => {
              setTopUpHint(min);
              setTab("channel");
            }}
            onExtend={() => {
              setExtendHint((n) => n + 1);
              setTab("channel");
            }}
            onShowChannel={() => setTab("channel")}
          />
        </div>
        <div id="pane-channel" className="pane pane-channel" {...paneRole} aria-labelledby={narrow ? "tab-channel" : "channel-title"}>
          {p.wallet ? (
            <ChannelPanel
              ch={ch}
              model={model}
              tokens={models.tokens}
              canTransact={p.chainOk}
              topUpHint={topUpHint}
              extendHint={extendHint}
              locked={chat.active !== null}
            />
          ) : (
            <p className="muted">{t("assistant.connectFirst")}</p>
          )}
        </div>
      </div>
    </section>
  );
}
