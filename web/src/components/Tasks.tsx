// The user's tasks, live: status, a timeline of the chain events with block times and hashes,
// the result (viewed inline, or opened / downloaded from /ipfs/{cid}), and the refund exit.
import { useEffect, useRef, useState } from "react";
import { api, ipfsUrl, type NetworkInfo, type Service, type Task } from "../lib/api";
import { parseDigitResult } from "../lib/digits";
import { formatAmount, formatTime } from "../lib/format";
import { canRefund, isFinal, progressSteps, statusKey, timelineKey } from "../lib/status";
import { refundCall, sendCall } from "../lib/tx";
import { purchaseErrorText } from "../lib/purchase";
import { decodeTaskInput, serviceName, type Tokens } from "../lib/services";
import type { StreamState } from "../lib/stream";
import type { Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import { TxHash } from "./TxHash";

/// Seconds since the epoch, refreshed every `everyMs` (only the local clock: nothing is fetched).
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    const id = setInterval(() => setNow(Math.floor(Date.now() / 1000)), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

interface ListProps {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  signedIn: boolean;
  tasks: Task[];
  loading: boolean;
  error: string | null;
  stream: StreamState;
  services: Map<number, Service>;
  tokens: Tokens;
  authBusy: boolean;
  onSignIn(): void;
  onTaskChanged(task: Task): void;
  onBalancesChanged(): void;
}

export function TaskList(p: ListProps) {
  const { t } = useI18n();
  const now = useNow(5000);
  return (
    <section id="tasks" className="section" aria-labelledby="tasks-title">
      <div className="section-head">
        <h2 id="tasks-title">{t("tasks.title")}</h2>
        <span className={`live live-${p.stream}`} data-testid="stream-state">
          <span aria-hidden="true">●</span> {t(`stream.${p.stream}`)}
        </span>
      </div>
      {!p.wallet ? (
        <p className="muted">{t("tasks.connectFirst")}</p>
      ) : (
        <>
          {!p.signedIn && (
            <div className="notice">
              <p>{t("tasks.signInForHistory")}</p>
              <button
                type="button"
                className="btn btn-primary"
                onClick={p.onSignIn}
                disabled={p.authBusy || !p.chainOk}
              >
                {t("auth.signIn")}
              </button>
            </div>
          )}
          {p.error && (
            <p className="notice notice-error" role="alert">
              {t("tasks.loadFailed", { message: p.error })}
            </p>
          )}
          {p.loading && p.tasks.length === 0 && <p className="muted">{t("tasks.loading")}</p>}
          {p.signedIn && !p.loading && p.tasks.length === 0 && <p className="muted">{t("tasks.empty")}</p>}
          <ul className="tasks" data-testid="tasks">
            {p.tasks.map((task) => (
              <TaskCard key={task.id} task={task} now={now} {...p} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

interface CardProps extends ListProps {
  task: Task;
  now: number;
}

function TaskCard({ task, now, net, wallet, chainOk, services, tokens, onTaskChanged, onBalancesChanged }: CardProps) {
  const { t, lang } = useI18n();
  const service = services.get(task.serviceId);
  const name = service ? serviceName(service, lang, t("market.unnamed", { id: task.serviceId })) : t("market.unnamed", { id: task.serviceId });
  const token = tokens[task.token.toLowerCase()];
  const [refund, setRefund] = useState<{ busy: boolean; error?: string; hash?: string }>({ busy: false });

  // The list endpoint sends no timeline, and a pushed status may be newer than the timeline held.
  const fetchedAt = useRef<number | null>(null);
  const lastEventBlock = task.timeline?.reduce((m, e) => Math.max(m, e.blockNumber), 0) ?? -1;
  useEffect(() => {
    if (lastEventBlock >= task.updatedBlock || fetchedAt.current === task.updatedBlock) return;
    fetchedAt.current = task.updatedBlock;
    api.task(task.id).then(onTaskChanged, () => undefined);
  }, [task.id, task.updatedBlock, lastEventBlock, onTaskChanged]);

  const claim = async () => {
    if (!net || !wallet) return;
    setRefund({ busy: true });
    try {
      const receipt = await sendCall(net, wallet, refundCall(net, task.id), {
        onSent: (hash) => setRefund({ busy: true, hash }),
      });
      setRefund({ busy: false, hash: receipt.transactionHash });
      onBalancesChanged();
      api.task(task.id).then(onTaskChanged, () => undefined);
    } catch (e) {
      setRefund({ busy: false, error: purchaseErrorText(e, t) });
    }
  };

  const runningLabel = task.status === "Running" && task.iexec ? t("status.runningIexec") : t(statusKey(task.status));

  return (
    <li className="task" id={`task-${task.id}`} data-testid={`task-${task.id}`} data-status={task.status}>
      <div className="task-head">
        <h3>
          <span className="mono">#{task.id}</span> {name}
        </h3>
        <span className={`status status-${task.status.toLowerCase()}`} data-testid="task-status">
          {runningLabel}
        </span>
      </div>
      <ol className="progress" aria-label={t("tasks.progress")}>
        {progressSteps(task.status, task.timeline?.some((e) => e.event === "TaskStarted")).map((s) => (
          <li key={s.key} className={`progress-${s.state}`} aria-current={s.state === "current" ? "step" : undefined}>
            {t(s.key)}
          </li>
        ))}
      </ol>
      <dl className="task-facts">
        <div>
          <dt>{t("task.paid")}</dt>
          <dd>{token ? formatAmount(task.amount, token.decimals, token.symbol) : task.amount}</dd>
        </div>
        <div>
          <dt>{t("task.created")}</dt>
          <dd>{formatTime(task.createdAt, lang)}</dd>
        </div>
        {task.deadline != null && !isFinal(task.status) && (
          <div>
            <dt>{t("task.deadline")}</dt>
            <dd>{formatTime(task.deadline, lang)}</dd>
          </div>
        )}
        {task.input != null && (
          <div className="wide">
            <dt>{t("task.input")}</dt>
            <dd>
              <InputView input={task.input} />
            </dd>
          </div>
        )}
      </dl>

      {task.iexec && (
        <div className="iexec" data-testid="iexec">
          <h4>iExec</h4>
          <dl className="task-facts">
            <div className="wide">
              <dt>{t("iexec.deal")}</dt>
              <dd>
                <code className="mono wrap">{task.iexec.dealId}</code>
              </dd>
            </div>
            <div className="wide">
              <dt>{t("iexec.task")}</dt>
              <dd>
                <code className="mono wrap">{task.iexec.taskId}</code>
              </dd>
            </div>
            <div>
              <dt>{t("iexec.status")}</dt>
              <dd>{task.iexec.status}</dd>
            </div>
          </dl>
        </div>
      )}

      {task.status === "Refunded" && (
        <p className="notice notice-warn" data-testid="failure-reason">
          {task.failureReason ? t("task.refundedReason", { reason: task.failureReason }) : t("task.refundedByBuyer")}
        </p>
      )}

      {task.resultHash && (
        <div className="result" data-testid="task-result">
          <h4>{t("result.title")}</h4>
          <p>
            <span>{t("result.cid")}</span> <code className="mono wrap" data-testid="result-cid">{task.resultHash}</code>
          </p>
          <p className="result-links">
            <a href={ipfsUrl(task.resultHash)} target="_blank" rel="noopener noreferrer" data-testid="result-view">
              {t("result.view")}
            </a>
            <a href={ipfsUrl(task.resultHash, `agora-task-${task.id}-result`)} data-testid="result-download">
              {t("result.download")}
            </a>
          </p>
          <ResultView cid={task.resultHash} />
        </div>
      )}

      {canRefund(task, now) && (
        <div className="refund">
          <p>{t("refund.available")}</p>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => void claim()}
            disabled={refund.busy || !wallet || !chainOk}
            data-testid="claim-refund"
          >
            {refund.busy ? t("refund.working") : t("refund.claim")}
          </button>
        </div>
      )}
      {(refund.hash || refund.error) && (
        <p className={refund.error ? "notice notice-error" : "muted"} role={refund.error ? "alert" : "status"}>
          {refund.error ?? (
            <>
              {t("tx.hash")} <TxHash hash={refund.hash!} />
            </>
          )}
        </p>
      )}

      <details className="timeline" open>
        <summary>{t("timeline.title")}</summary>
        {task.timeline ? (
          <ol>
            {task.timeline
              .filter((e) => timelineKey(e.event) !== null)
              .map((e) => (
                <li key={`${e.txHash}-${e.event}`} data-event={e.event}>
                  <strong>{t(timelineKey(e.event)!, { event: e.event })}</strong>{" "}
                  <span className="muted">
                    {t("timeline.block", { block: e.blockNumber })} · {formatTime(e.blockTimestamp, lang)}
                  </span>{" "}
                  <TxHash hash={e.txHash} />
                </li>
              ))}
          </ol>
        ) : (
          <p className="muted">{t("timeline.loading")}</p>
        )}
      </details>
    </li>
  );
}

const CID_RE = /^(bafy|bafk|Qm)[0-9a-zA-Z]{20,}$/;

function InputView({ input }: { input: string }) {
  const { t, tOr } = useI18n();
  const trimmed = input.trim();
  const withOptions = decodeTaskInput(trimmed);
  if (withOptions) {
    return (
      <>
        <InputView input={withOptions.value} />
        {withOptions.options.map(([name, choice]) => (
          <span key={name} className="muted option-chosen">
            {" · "}
            {t("task.option", { name: tOr(`buy.option.${name}`, name), choice: tOr(`buy.choice.${name}.${choice}`, choice) })}
          </span>
        ))}
      </>
    );
  }
  if (CID_RE.test(trimmed)) {
    return (
      <a href={ipfsUrl(trimmed)} target="_blank" rel="noopener noreferrer" className="mono wrap">
        {trimmed}
      </a>
    );
  }
  try {
    const v = JSON.parse(trimmed) as { pixels?: unknown };
    if (Array.isArray(v.pixels) && v.pixels.length === 64) {
      return (
        <span className="mini-digit" role="img" aria-label={t("task.digitInput")}>
          {(v.pixels as number[]).map((px, i) => (
            <span key={i} style={{ backgroundColor: `hsl(220 15% ${Math.round(100 - (Number(px) / 16) * 85)}%)` }} />
          ))}
        </span>
      );
    }
  } catch {
    // plain text
  }
  return <span className="wrap">{trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed}</span>;
}

const MAX_INLINE_TEXT = 20_000;

type Shown =
  | { kind: "loading" }
  | { kind: "text"; text: string; truncated: boolean }
  | { kind: "image" | "video"; type: string }
  | { kind: "other"; type: string }
  | { kind: "error"; message: string };

/// The result shown in the page: text and JSON as text (a digit answer as the digit), images and
/// video as media.
function ResultView({ cid }: { cid: string }) {
  const { t } = useI18n();
  const [shown, setShown] = useState<Shown>({ kind: "loading" });
  useEffect(() => {
    const ctl = new AbortController();
    (async () => {
      try {
        const res = await fetch(ipfsUrl(cid), { signal: ctl.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const type = (res.headers.get("content-type") ?? "application/octet-stream").split(";")[0].trim();
        if (type.startsWith("image/") || type.startsWith("video/")) {
          void res.body?.cancel();
          setShown({ kind: type.startsWith("image/") ? "image" : "video", type });
        } else if (type.startsWith("text/") || type === "application/json") {
          const text = await res.text();
          setShown({ kind: "text", text: text.slice(0, MAX_INLINE_TEXT), truncated: text.length > MAX_INLINE_TEXT });
        } else {
          void res.body?.cancel();
          setShown({ kind: "other", type });
        }
      } catch (e) {
        if (!ctl.signal.aborted) setShown({ kind: "error", message: e instanceof Error ? e.message : String(e) });
      }
    })();
    return () => ctl.abort();
  }, [cid]);

  switch (shown.kind) {
    case "loading":
      return <p className="muted">{t("result.loading")}</p>;
    case "error":
      return (
        <p className="notice notice-error" role="alert">
          {t("result.loadFailed", { message: shown.message })}
        </p>
      );
    case "image":
      return <img className="result-media" src={ipfsUrl(cid)} alt={t("result.imageAlt")} data-testid="result-inline" />;
    case "video":
      return (
        <video className="result-media" src={ipfsUrl(cid)} controls preload="metadata" data-testid="result-inline">
          {t("result.noVideo")}
        </video>
      );
    case "other":
      return <p className="muted">{t("result.binary", { type: shown.type })}</p>;
    case "text": {
      const digit = parseDigitResult(shown.text);
      return (
        <div data-testid="result-inline">
          {digit && (
            <p className="digit-answer" data-testid="digit-answer">
              {t("result.digit", { digit: digit.digit })}
              {digit.confidence !== null && (
                <span className="muted"> {t("result.confidence", { pct: Math.round(digit.confidence * 100) })}</span>
              )}
            </p>
          )}
          <pre className="result-text">{shown.text}</pre>
          {shown.truncated && <p className="muted">{t("result.truncated")}</p>}
        </div>
      );
    }
  }
}
