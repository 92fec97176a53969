// Buying compute: the task input (text, a file → CID, or a drawn digit), then approve (ERC-20,
// when the allowance is short), simulate, the wallet prompt, the transaction hash while it is
// mined, and the task the market created — whose status then follows the server's pushes.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api, ApiError, type NetworkInfo, type Service, type Task } from "../lib/api";
import { ETH_TOKEN } from "../lib/abi";
import { emptyGrid, encodeDigitInput } from "../lib/digits";
import { shortAddress } from "../lib/format";
import { statusKey } from "../lib/status";
import { allowance, approveCall, buyCall, sendCall, taskIdFromReceipt, TxRevertedError } from "../lib/tx";
import { errorText, isUserRejection, type Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import type { TokenInfo } from "../App";
import { DigitGrid } from "./DigitGrid";
import { serviceName, servicePrice } from "./Market";
import { TxHash } from "./Tasks";

type Mode = "draw" | "text" | "file";
type StepState = "active" | "done" | "failed";
interface Step {
  id: "approve" | "simulate" | "wallet" | "sent";
  state: StepState;
  hash?: `0x${string}`;
  block?: bigint;
}

function modesFor(kind: string | undefined): Mode[] {
  if (kind === "ai-inference") return ["draw", "file"];
  if (kind === "video-transcode") return ["file"];
  return ["text", "file"];
}

interface Props {
  net: NetworkInfo;
  service: Service;
  tokens: Record<string, TokenInfo>;
  wallet: Wallet | null;
  chainOk: boolean;
  tasks: Record<number, Task>;
  onClose(): void;
  onConnect(): void;
  onTaskCreated(task: Task): void;
  onBalancesChanged(): void;
}

/// A failure as one sentence for the person buying.
export function purchaseErrorText(e: unknown, t: (key: string, vars?: Record<string, string | number>) => string): string {
  if (isUserRejection(e)) return t("tx.rejected");
  if (e instanceof ApiError && e.status === 422) return t("tx.wouldRevert", { message: e.message });
  if (e instanceof TxRevertedError) return t("tx.reverted", { hash: e.hash });
  return t("tx.failed", { message: errorText(e) });
}

export function BuyDialog(p: Props) {
  const { t, lang } = useI18n();
  const { service, net, wallet } = p;
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const gridLabelId = useId();
  const kind = service.metadata?.kind;
  const modes = modesFor(kind);
  const [mode, setMode] = useState<Mode>(modes[0]);
  const [text, setText] = useState("");
  const [grid, setGrid] = useState<number[]>(emptyGrid);
  const [upload, setUpload] = useState<{ name: string; cid?: string; busy: boolean; error?: string } | null>(null);
  const [steps, setSteps] = useState<Step[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [taskId, setTaskId] = useState<number | null>(null);
  const name = serviceName(service, lang, t("market.unnamed", { id: service.id }));
  const price = servicePrice(service, p.tokens) ?? service.price;
  const isToken = service.token.toLowerCase() !== ETH_TOKEN;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => opener?.focus?.();
  }, []);

  const setStep = (id: Step["id"], state: StepState, extra: Partial<Step> = {}) =>
    setSteps((prev) => {
      const existing = prev.find((s) => s.id === id);
      const next = { ...existing, id, state, ...extra };
      return existing ? prev.map((s) => (s.id === id ? next : s)) : [...prev, next];
    });

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setUpload({ name: file.name, busy: true });
    try {
      const { cid } = await api.upload(file);
      setUpload({ name: file.name, cid, busy: false });
    } catch (e) {
      setUpload({ name: file.name, busy: false, error: t("buy.uploadFailed", { message: errorText(e) }) });
    }
  };

  const taskInput = (): string => {
    if (mode === "draw") {
      try {
        return encodeDigitInput(grid);
      } catch {
        throw new Error(t("buy.drawFirst"));
      }
    }
    if (mode === "file") {
      if (!upload?.cid) throw new Error(t("buy.uploadFirst"));
      return upload.cid;
    }
    if (!text.trim()) throw new Error(t("buy.textFirst"));
    return text;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!wallet || !p.chainOk || busy) return;
    setError(null);
    let input: string;
    try {
      input = taskInput();
    } catch (err) {
      setError(errorText(err));
      return;
    }
    setBusy(true);
    setSteps([]);
    let current: Step["id"] = "simulate";
    try {
      if (isToken) {
        const token = service.token as `0x${string}`;
        const have = await allowance(net, token, wallet.address);
        const need = BigInt(service.price);
        if (have < need) {
          current = "approve";
          setStep("approve", "active");
          const receipt = await sendCall(net, wallet, approveCall(token, net.computeMarket, need), {
            onSent: (hash) => setStep("approve", "active", { hash }),
          });
          setStep("approve", "done", { block: receipt.blockNumber });
        }
      }
      current = "simulate";
      setStep("simulate", "active");
      const receipt = await sendCall(net, wallet, buyCall(net, service, input), {
        onPrompt: () => {
          setStep("simulate", "done");
          current = "wallet";
          setStep("wallet", "active");
        },
        onSent: (hash) => {
          setStep("wallet", "done");
          current = "sent";
          setStep("sent", "active", { hash });
        },
      });
      setStep("sent", "done", { block: receipt.blockNumber });
      const id = taskIdFromReceipt(net, receipt);
      setTaskId(id);
      p.onBalancesChanged();
      api.task(id).then(p.onTaskCreated, () => undefined);
    } catch (err) {
      setStep(current, "failed");
      setError(purchaseErrorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const task = taskId !== null ? p.tasks[taskId] : undefined;
  const status = task?.status ?? "Created";

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      onClose={p.onClose}
      onCancel={(e) => {
        e.preventDefault();
        p.onClose();
      }}
      data-testid="buy-dialog"
    >
      <form onSubmit={submit} className="dialog-body">
        <h2 id={titleId}>{t("buy.title", { name })}</h2>
        <dl className="card-facts">
          <div>
            <dt>{t("market.price")}</dt>
            <dd className="price">{price}</dd>
          </div>
          <div>
            <dt>{t("buy.contract")}</dt>
            <dd className="mono" title={net.computeMarket}>
              {shortAddress(net.computeMarket)}
            </dd>
          </div>
        </dl>

        {taskId === null && (
          <fieldset className="input-block" disabled={busy}>
            <legend>{t("buy.input")}</legend>
            {modes.length > 1 && (
              <div className="segmented" role="radiogroup" aria-label={t("buy.inputKind")}>
                {modes.map((m) => (
                  <label key={m} className={mode === m ? "seg seg-on" : "seg"}>
                    <input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
                    {t(`buy.mode.${m}`)}
                  </label>
                ))}
              </div>
            )}
            {mode === "draw" && (
              <>
                <p id={gridLabelId}>{t("buy.drawLabel")}</p>
                <DigitGrid value={grid} onChange={setGrid} labelId={gridLabelId} />
              </>
            )}
            {mode === "text" && (
              <label className="field">
                <span>{t(kind === "data-processing" ? "buy.textLabelData" : "buy.textLabel")}</span>
                <textarea
                  value={text}
                  onChange={(e) => setText(e.target.value)}
                  rows={4}
                  data-testid="task-text"
                  placeholder={t("buy.textPlaceholder")}
                />
              </label>
            )}
            {mode === "file" && (
              <div className="field">
                <label>
                  <span>
                    {t(
                      kind === "video-transcode"
                        ? "buy.fileLabelVideo"
                        : kind === "ai-inference"
                          ? "buy.fileLabelImage"
                          : "buy.fileLabel",
                    )}
                  </span>
                  <input
                    type="file"
                    accept={kind === "video-transcode" ? "video/*" : kind === "ai-inference" ? "image/png" : undefined}
                    onChange={(e) => void onFile(e.target.files?.[0])}
                    data-testid="task-file"
                  />
                </label>
                <p role="status" aria-live="polite">
                  {upload?.busy && t("buy.uploading", { name: upload.name })}
                  {upload?.cid && (
                    <>
                      {t("buy.uploaded")} <code className="mono wrap">{upload.cid}</code>
                    </>
                  )}
                </p>
                {upload?.error && (
                  <p className="notice notice-error" role="alert">
                    {upload.error}
                  </p>
                )}
              </div>
            )}
          </fieldset>
        )}

        {!wallet && (
          <div className="notice notice-warn" role="alert">
            <p>{t("buy.connectFirst")}</p>
            <button type="button" className="btn btn-primary" onClick={p.onConnect}>
              {t("wallet.connect")}
            </button>
          </div>
        )}
        {wallet && !p.chainOk && (
          <p className="notice notice-warn" role="alert">
            {t("buy.wrongNetwork", { expected: net.chainId })}
          </p>
        )}

        <ol className="steps" aria-live="polite" data-testid="buy-steps">
          {steps.map((s) => (
            <li key={s.id} className={`step step-${s.state}`} data-step={s.id} data-state={s.state}>
              <span className="step-icon" aria-hidden="true">
                {s.state === "done" ? "✓" : s.state === "failed" ? "✗" : "…"}
              </span>
              <span>
                {t(`step.${s.id}.${s.state}`, { symbol: p.tokens[service.token.toLowerCase()]?.symbol ?? "" })}
                {s.hash && (
                  <>
                    {" "}
                    <span className="muted">{t("tx.hash")}</span> <TxHash hash={s.hash} full />
                  </>
                )}
                {s.block !== undefined && (
                  <span className="muted"> {t("tx.inBlock", { block: s.block.toString() })}</span>
                )}
              </span>
            </li>
          ))}
        </ol>

        {taskId !== null && (
          <div className="created" role="status" data-testid="task-created">
            <p className="created-title">{t("buy.created")}</p>
            <p>
              {t("buy.createdId")}
              <strong data-testid="created-task-id">#{taskId}</strong>
            </p>
            <p>
              {t("buy.createdStatus")}
              <strong data-testid="created-task-status" data-status={status}>
                {t(statusKey(status))}
              </strong>
            </p>
            <p>
              <a href={`#task-${taskId}`} onClick={() => p.onClose()}>
                {t("buy.viewTask")}
              </a>
            </p>
          </div>
        )}

        {error && (
          <p className="notice notice-error" role="alert" data-testid="buy-error">
            {error}
          </p>
        )}

        <div className="dialog-actions">
          <button type="button" className="btn" onClick={p.onClose}>
            {taskId !== null ? t("buy.close") : t("buy.cancel")}
          </button>
          {taskId === null && (
            <button
              type="submit"
              className="btn btn-primary"
              disabled={!wallet || !p.chainOk || busy}
              data-testid="confirm-buy"
            >
              {busy ? t("buy.working") : isToken ? t("buy.confirmToken", { price }) : t("buy.confirm", { price })}
            </button>
          )}
        </div>
      </form>
    </dialog>
  );
}
