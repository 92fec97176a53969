// The small forms a task's actions open: a reason (reject, dispute), a deliverable (text or a file,
// uploaded to the content store, its CID submitted), a later deadline, and the arbiter's split
// (pay, refund, or anything between on a slider). Each opens on its button, takes the focus, sends
// on Enter (the button) and closes on Escape, giving the focus back.
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { api } from "../lib/api";
import { boardAmount, splitOf } from "../lib/boardRules";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import type { BoardTokens } from "./BoardCommon";

/// A button that opens `children` (a form) in place; Escape closes it.
export function Opener({ label, disabled, testId, children }: { label: string; disabled?: boolean; testId: string; children: (close: () => void) => ReactNode }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const close = () => {
    setOpen(false);
    setTimeout(() => button.current?.focus(), 0);
  };
  useEffect(() => {
    if (open) box.current?.querySelector<HTMLElement>("textarea, input, select, button")?.focus();
  }, [open]);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      close();
    }
  };
  return (
    <>
      <button ref={button} type="button" className="btn" aria-expanded={open} disabled={disabled} onClick={() => setOpen((o) => !o)} data-testid={testId}>
        {label}
      </button>
      {open && (
        <div ref={box} className="board-opened" onKeyDown={onKey}>
          {children(close)}
        </div>
      )}
    </>
  );
}

/// A free-text reason (≤ 512 bytes, as the contract takes), sent by `onSend`.
export function ReasonForm({ label, submit, busy, onSend, onCancel, testId, required = false }: { label: string; submit: string; busy: boolean; onSend(reason: string): void; onCancel(): void; testId: string; required?: boolean }) {
  const { t } = useI18n();
  const id = useId();
  const [reason, setReason] = useState("");
  const bytes = new TextEncoder().encode(reason).length;
  const bad = bytes > 512 || (required && reason.trim() === "");
  return (
    <form
      className="create-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!bad) onSend(reason.trim());
      }}
    >
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} aria-invalid={bytes > 512} data-testid={`${testId}-reason`} />
      {bytes > 512 && <p className="field-error">{t("board.tooLong", { max: 512 })}</p>}
      <div className="inline-row">
        <button type="submit" className="btn btn-primary" disabled={busy || bad} data-testid={`${testId}-send`}>
          {submit}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          {t("board.close")}
        </button>
      </div>
    </form>
  );
}

/// The work: typed text or a file, stored in the content store; `onSend` gets its CID.
export function DeliverableForm({ busy, submit, onSend, onFail, onCancel }: { busy: boolean; submit: string; onSend(cid: string): void; onFail(message: string): void; onCancel(): void }) {
  const { t } = useI18n();
  const ids = { text: useId(), file: useId() };
  const [text, setText] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [uploading, setUploading] = useState(false);
  const empty = !file && text.trim() === "";
  return (
    <form
      className="create-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (empty) return;
        setUploading(true);
        api.upload(file ?? new Blob([text], { type: "text/markdown" })).then(
          (u) => {
            setUploading(false);
            onSend(u.cid);
          },
          (err: unknown) => {
            setUploading(false);
            onFail(t("board.uploadFailed", { message: errorText(err) }));
          },
        );
      }}
    >
      <label htmlFor={ids.text}>{t("board.deliverable.text")}</label>
      <textarea id={ids.text} rows={5} value={text} onChange={(e) => setText(e.target.value)} disabled={!!file} data-testid="board-deliverable-text" />
      <label htmlFor={ids.file}>{t("board.deliverable.file")}</label>
      <input id={ids.file} type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="board-deliverable-file" />
      <div className="inline-row">
        <button type="submit" className="btn btn-primary" disabled={busy || uploading || empty} data-testid="board-deliverable-send">
          {uploading ? t("board.uploading") : submit}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          {t("board.close")}
        </button>
      </div>
    </form>
  );
}

/// A later deadline: hours added to the current one.
export function ExtendForm({ deadline, busy, onSend, onCancel }: { deadline: number; busy: boolean; onSend(deadline: number): void; onCancel(): void }) {
  const { t } = useI18n();
  const id = useId();
  const [hours, setHours] = useState("24");
  const h = Number(hours);
  const ok = Number.isFinite(h) && h > 0 && h <= 365 * 24;
  return (
    <form
      className="inline-row"
      onSubmit={(e) => {
        e.preventDefault();
        if (ok) onSend(deadline + Math.round(h * 3600));
      }}
    >
      <label htmlFor={id}>{t("board.extendBy")}</label>
      <input id={id} type="number" min={1} step={1} value={hours} onChange={(e) => setHours(e.target.value)} data-testid="board-extend-hours" />
      <button type="submit" className="btn btn-primary" disabled={busy || !ok} data-testid="board-extend-send">
        {t("board.extend")}
      </button>
      <button type="button" className="btn" onClick={onCancel}>
        {t("board.close")}
      </button>
    </form>
  );
}

/// The arbiter's decision: the worker's share of one slot in percent (pay 100, refund 0, or a split).
export function ResolveForm({ rewardPerSlot, token, tokens, busy, onSend, onCancel }: { rewardPerSlot: bigint; token: string; tokens: BoardTokens; busy: boolean; onSend(workerBps: number): void; onCancel(): void }) {
  const { t } = useI18n();
  const id = useId();
  const [percent, setPercent] = useState(50);
  const split = splitOf(rewardPerSlot, percent * 100);
  return (
    <form
      className="create-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSend(percent * 100);
      }}
    >
      <div className="inline-row">
        <button type="button" className="btn" onClick={() => setPercent(100)} data-testid="board-resolve-pay">
          {t("board.resolve.pay")}
        </button>
        <button type="button" className="btn" onClick={() => setPercent(0)} data-testid="board-resolve-refund">
          {t("board.resolve.refund")}
        </button>
      </div>
      <label htmlFor={id}>{t("board.resolve.share", { percent })}</label>
      <input id={id} type="range" min={0} max={100} step={1} value={percent} onChange={(e) => setPercent(Number(e.target.value))} data-testid="board-resolve-split" />
      <p data-testid="board-resolve-parts">
        {t("board.resolve.parts", { worker: boardAmount(split.worker, token, tokens), publisher: boardAmount(split.publisher, token, tokens) })}
      </p>
      <div className="inline-row">
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="board-resolve-send">
          {t("board.resolve.send")}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          {t("board.close")}
        </button>
      </div>
    </form>
  );
}
