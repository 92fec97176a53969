// Buying compute: the task input (text, a file → CID, or a drawn digit, plus the service's options),
// then the purchase (usePurchase): approve when the allowance is short, simulate, the wallet prompt,
// the transaction hash while it is mined, and the task the market created — whose status then
// follows the server's pushes. What the input may be comes from the service itself (`input`).
import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { api, type InputMode, type NetworkInfo, type Service, type Task } from "../lib/api";
import { ETH_TOKEN } from "../lib/abi";
import { emptyGrid, encodeDigitInput } from "../lib/digits";
import { shortAddress } from "../lib/format";
import { localized } from "../lib/i18n";
import {
  defaultChoices,
  encodeTaskInput,
  fileLabelKey,
  inputSpec,
  serviceName,
  servicePrice,
  type Tokens,
} from "../lib/services";
import { statusKey } from "../lib/status";
import { errorText, type Wallet } from "../lib/wallet";
import { usePurchase } from "../hooks/usePurchase";
import { useI18n } from "../i18n-context";
import { DigitGrid } from "./DigitGrid";
import { TxHash } from "./TxHash";

interface Props {
  net: NetworkInfo;
  service: Service;
  tokens: Tokens;
  wallet: Wallet | null;
  chainOk: boolean;
  tasks: Record<number, Task>;
  onClose(): void;
  onConnect(): void;
  onTaskCreated(task: Task): void;
  onBalancesChanged(): void;
}

export function BuyDialog(p: Props) {
  const { t, tOr, lang } = useI18n();
  const { service, net, wallet } = p;
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const gridLabelId = useId();
  const optionId = useId();
  const spec = useMemo(() => inputSpec(service), [service]);
  const modes = spec.modes;
  const [mode, setMode] = useState<InputMode>(modes[0]);
  const [text, setText] = useState("");
  const [grid, setGrid] = useState<number[]>(emptyGrid);
  const [choices, setChoices] = useState<Record<string, string>>(() => defaultChoices(spec));
  const [upload, setUpload] = useState<{ name: string; cid?: string; busy: boolean; error?: string } | null>(null);
  const { state, buy, reject } = usePurchase({
    net,
    service,
    wallet,
    chainOk: p.chainOk,
    onTaskCreated: p.onTaskCreated,
    onBalancesChanged: p.onBalancesChanged,
  });
  const { steps, busy, error, taskId } = state;
  const name = serviceName(service, lang, t("market.unnamed", { id: service.id }));
  const description = localized(service.metadata?.description, lang);
  const price = servicePrice(service, p.tokens) ?? service.price;
  const isToken = service.token.toLowerCase() !== ETH_TOKEN;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => opener?.focus?.();
  }, []);

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

  /// The text, CID or digit the buyer gave, or a sentence saying what is missing.
  const givenInput = (): { value: string } | { missing: string } => {
    if (mode === "draw") {
      try {
        return { value: encodeDigitInput(grid) };
      } catch {
        return { missing: t("buy.drawFirst") };
      }
    }
    if (mode === "file") return upload?.cid ? { value: upload.cid } : { missing: t("buy.uploadFirst") };
    return text.trim() ? { value: text } : { missing: t("buy.textFirst") };
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!wallet || !p.chainOk || busy) return;
    const given = givenInput();
    if ("missing" in given) reject(given.missing);
    else void buy(encodeTaskInput(spec, given.value, choices));
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
            {description && <p className="muted">{description}</p>}
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
                <span>{t("buy.textLabel")}</span>
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
                  <span>{t(fileLabelKey(spec.accept))}</span>
                  <input
                    type="file"
                    accept={spec.accept ?? undefined}
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
            {spec.options.length > 0 && (
              <div className="options" data-testid="task-options">
                {spec.options.map((o) => (
                  <div key={o.name} className="field option">
                    <label htmlFor={`${optionId}-${o.name}`}>{tOr(`buy.option.${o.name}`, o.name)}</label>
                    <select
                      id={`${optionId}-${o.name}`}
                      value={choices[o.name]}
                      onChange={(e) => setChoices((prev) => ({ ...prev, [o.name]: e.target.value }))}
                      data-testid={`option-${o.name}`}
                    >
                      {o.choices.map((c) => (
                        <option key={c} value={c}>
                          {tOr(`buy.choice.${o.name}.${c}`, c)}
                        </option>
                      ))}
                    </select>
                  </div>
                ))}
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
