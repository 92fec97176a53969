// Paying for a prediction (`#/fl/predict/{id}`, the seed's step 7): choose a finished model that
// charges a fee, upload an image or draw one, see it as the model will (28×28 grayscale, scaled in a
// canvas — lib/flImage.ts), pay `requestPrediction` with the fee (approving a token fee first), send
// the pixels to the node with the request id, and read the class, its label and the confidence. Or
// pay from a payment channel to the node's fee receiver: the channel's session key signs a voucher
// (no wallet prompt) that goes with the pixels (hooks/useVoucherPredict.ts).
import { useEffect, useId, useRef, useState, type PointerEvent } from "react";
import type { FlPrediction, FlTask } from "../lib/fl";
import { askUntilSeen, flApi } from "../lib/fl";
import { classKind } from "../lib/flCalls";
import { fitInto, hasInk, inputHash, SIDE, toBase64, toModelPixels } from "../lib/flImage";
import { flHref } from "../lib/route";
import type { Tokens } from "../lib/services";
import { errorText, type Wallet } from "../lib/wallet";
import { useFlTasks } from "../hooks/useFlData";
import { useVoucherPredict } from "../hooks/useVoucherPredict";
import type { PaidVoucher } from "../lib/flVoucher";
import type { FlMarket } from "../hooks/useFlMarket";
import { useI18n } from "../i18n-context";
import { amountIn, taskName, TxStatus } from "./FlCommon";

interface Props {
  id: number | null;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
  fl: FlMarket;
  onConnect(): void;
}

function ctx2d(c: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = c.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("this browser cannot draw in a canvas");
  return ctx;
}

/// The image scaled into 28×28 (proportions kept, the margin filled with the image's corner colour).
async function imageToPixels(file: Blob): Promise<Uint8Array> {
  const bmp = await createImageBitmap(file);
  const corner = document.createElement("canvas");
  corner.width = corner.height = 1;
  const cc = ctx2d(corner);
  cc.drawImage(bmp, 0, 0, 1, 1, 0, 0, 1, 1);
  const [r, g, b] = cc.getImageData(0, 0, 1, 1).data;
  const c = document.createElement("canvas");
  c.width = c.height = SIDE;
  const ctx = ctx2d(c);
  ctx.fillStyle = `rgb(${r} ${g} ${b})`;
  ctx.fillRect(0, 0, SIDE, SIDE);
  ctx.imageSmoothingQuality = "high";
  const { dx, dy, dw, dh } = fitInto(bmp.width, bmp.height);
  ctx.drawImage(bmp, dx, dy, dw, dh);
  bmp.close();
  return toModelPixels(ctx.getImageData(0, 0, SIDE, SIDE).data);
}

/// A drawing canvas scaled down to 28×28.
function drawingToPixels(src: HTMLCanvasElement): Uint8Array {
  const c = document.createElement("canvas");
  c.width = c.height = SIDE;
  const ctx = ctx2d(c);
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(src, 0, 0, SIDE, SIDE);
  return toModelPixels(ctx.getImageData(0, 0, SIDE, SIDE).data);
}

export function FlPredictPage({ id, wallet, chainOk, tokens, fl, onConnect }: Props) {
  const { t } = useI18n();
  const list = useFlTasks({ state: "Finished" }, fl.version, !!fl.market);
  const models = (list.tasks ?? []).filter((x) => x.predictionFee > 0n);
  const [chosen, setChosen] = useState<number | null>(id);
  useEffect(() => setChosen(id), [id]);
  const task = models.find((m) => m.id === chosen) ?? null;
  const [pixels, setPixels] = useState<Uint8Array | null>(null);
  const [inputError, setInputError] = useState<string | null>(null);
  const [source, setSource] = useState<"upload" | "draw">("upload");
  const [answer, setAnswer] = useState<{ task: FlTask; prediction: FlPrediction; requestId: string } | null>(null);
  const [payBy, setPayBy] = useState<"tx" | "channel">("tx");
  const [channelId, setChannelId] = useState<string>("");
  const vp = useVoucherPredict(wallet, payBy === "channel");
  const channel = vp.channels?.find((c) => c.id === channelId) ?? vp.channels?.[0] ?? null;
  /// A voucher sent whose answer has not come: asked again with the same key, never paid again.
  const [unansweredVoucher, setUnansweredVoucher] = useState<{ task: FlTask; pixels: Uint8Array; voucher: PaidVoucher } | null>(null);
  const [predictError, setPredictError] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);
  const ids = { model: useId(), file: useId(), channel: useId() };

  const onFile = async (file: File | undefined) => {
    setInputError(null);
    setAnswer(null);
    if (!file) return;
    try {
      setPixels(await imageToPixels(file));
    } catch (e) {
      setPixels(null);
      setInputError(t("predict.badImage", { message: errorText(e) }));
    }
  };

  /// A paid request whose answer has not come: asked again without paying again.
  const [unanswered, setUnanswered] = useState<{ task: FlTask; requestId: bigint; pixels: Uint8Array } | null>(null);

  const ask = async (paid: { task: FlTask; requestId: bigint; pixels: Uint8Array }) => {
    setAsking(true);
    setPredictError(null);
    try {
      const prediction = await askUntilSeen(() => flApi.predict(paid.task.id, paid.requestId, toBase64(paid.pixels)));
      setAnswer({ task: paid.task, prediction, requestId: paid.requestId.toString() });
      setUnanswered(null);
    } catch (e) {
      setUnanswered(paid);
      setPredictError(t("predict.failed", { id: paid.requestId.toString(), message: errorText(e) }));
    } finally {
      setAsking(false);
    }
  };

  const pay = async () => {
    if (!task || !pixels) return;
    setPredictError(null);
    setAnswer(null);
    setUnanswered(null);
    const requestId = await fl.payPrediction(task, inputHash(pixels));
    if (requestId === null) return;
    await ask({ task, requestId, pixels });
  };

  const askVoucher = async (paid: { task: FlTask; pixels: Uint8Array; voucher: PaidVoucher }) => {
    setAsking(true);
    setPredictError(null);
    try {
      const p = await vp.ask(paid.task, toBase64(paid.pixels), paid.voucher);
      setAnswer({ task: paid.task, prediction: p, requestId: p.requestId });
      setUnansweredVoucher(null);
    } catch (e) {
      setUnansweredVoucher(paid);
      setPredictError(t("predict.channel.failed", { message: errorText(e) }));
    } finally {
      setAsking(false);
      // The channel's spent figure moves with each voucher the node accepts.
      void vp.reload();
    }
  };

  const payFromChannel = async () => {
    if (!task || !pixels || !channel) return;
    setPredictError(null);
    setAnswer(null);
    setUnanswered(null);
    setUnansweredVoucher(null);
    let voucher: PaidVoucher;
    try {
      voucher = await vp.sign(task, channel);
    } catch (e) {
      setPredictError(errorText(e));
      return;
    }
    await askVoucher({ task, pixels, voucher });
  };

  const label = (a: { task: FlTask; prediction: FlPrediction }) =>
    classKind(a.task.specInfo) === "digit" ? String(a.prediction.class) : t(`fl.class.${a.prediction.class as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}`);

  return (
    <section className="section fl" aria-labelledby="predict-title" data-testid="fl-predict">
      <p>
        <a href={flHref({ page: "tasks" })}>← {t("fl.back")}</a>
      </p>
      <h1 id="predict-title" tabIndex={-1}>
        {t("predict.title")}
      </h1>
      <p className="lead">{t("predict.lead")}</p>
      {!wallet && (
        <p className="notice">
          {t("predict.connectFirst")}{" "}
          <button type="button" className="btn" onClick={onConnect}>
            {t("wallet.connect")}
          </button>
        </p>
      )}
      {list.error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: list.error })}
        </p>
      )}
      <div className="panel">
        <div className="field">
          <label htmlFor={ids.model}>{t("predict.model")}</label>
          <select id={ids.model} value={chosen ?? ""} onChange={(e) => setChosen(e.target.value ? Number(e.target.value) : null)} data-testid="predict-model">
            <option value="">{models.length ? t("predict.choose") : t("predict.noModels")}</option>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {`${taskName(m)} (#${m.id}) — ${amountIn(tokens, m.predictionFee, m.token)}`}
              </option>
            ))}
          </select>
        </div>
        <fieldset className="fl-fieldset">
          <legend>{t("predict.input")}</legend>
          {(["upload", "draw"] as const).map((s) => (
            <label key={s} className="toggle">
              <input type="radio" name="predict-source" checked={source === s} onChange={() => (setSource(s), setPixels(null), setAnswer(null))} data-testid={`predict-source-${s}`} />
              {t(`predict.source.${s}`)}
            </label>
          ))}
        </fieldset>
        {source === "upload" ? (
          <div className="field">
            <label htmlFor={ids.file}>{t("predict.file")}</label>
            <input id={ids.file} type="file" accept="image/*" onChange={(e) => void onFile(e.target.files?.[0])} data-testid="predict-file" />
          </div>
        ) : (
          <DrawPad onChange={(px) => (setPixels(px), setAnswer(null))} />
        )}
        {inputError && (
          <p className="field-error" role="alert">
            {inputError}
          </p>
        )}
        {pixels && <Preview pixels={pixels} />}
        <fieldset className="fl-fieldset">
          <legend>{t("predict.payBy")}</legend>
          {(["tx", "channel"] as const).map((m) => (
            <label key={m} className="toggle">
              <input type="radio" name="predict-pay-by" checked={payBy === m} onChange={() => setPayBy(m)} data-testid={`predict-pay-by-${m}`} />
              {t(`predict.payBy.${m}`)}
            </label>
          ))}
        </fieldset>
        {payBy === "channel" && (
          <div className="field">
            <label htmlFor={ids.channel}>{t("predict.channel.label")}</label>
            {vp.channels && vp.channels.length > 0 ? (
              <select id={ids.channel} value={channel?.id ?? ""} onChange={(e) => setChannelId(e.target.value)} data-testid="predict-channel">
                {vp.channels.map((c) => (
                  <option key={c.id} value={c.id}>
                    {`${c.id.slice(0, 10)}… — ${t("predict.channel.deposit.short", { deposit: amountIn(tokens, BigInt(c.deposit), c.token as `0x${string}`), spent: amountIn(tokens, BigInt(c.spent), c.token as `0x${string}`) })}`}
                  </option>
                ))}
              </select>
            ) : (
              <p className="hint" data-testid="predict-channel-none">
                {t("predict.channel.none")} <a href="#/assistant">{t("predict.channel.open")}</a>
              </p>
            )}
            {vp.error && (
              <p className="field-error" role="alert">
                {vp.error}
              </p>
            )}
          </div>
        )}
        <button
          type="button"
          className="btn btn-primary"
          disabled={!wallet || !chainOk || !task || !pixels || !hasInk(pixels) || fl.busy || asking || (payBy === "channel" && !channel)}
          onClick={() => void (payBy === "channel" ? payFromChannel() : pay())}
          data-testid="predict-pay"
        >
          {task ? t("predict.pay", { fee: amountIn(tokens, task.predictionFee, task.token) }) : t("predict.payNoModel")}
        </button>
        {task && <TxStatus tx={fl.tx} action={`predict:${task.id}`} />}
        {asking && (
          <p role="status" className="status-line">
            {t("predict.asking")}
          </p>
        )}
        {predictError && (
          <div className="notice notice-error" role="alert" data-testid="predict-error">
            <p>{predictError}</p>
            {unansweredVoucher && (
              <button type="button" className="btn" disabled={asking} onClick={() => void askVoucher(unansweredVoucher)} data-testid="predict-retry">
                {t("predict.retry")}
              </button>
            )}
            {unanswered && (
              <button type="button" className="btn" disabled={asking} onClick={() => void ask(unanswered)} data-testid="predict-retry">
                {t("predict.retry")}
              </button>
            )}
          </div>
        )}
        {answer && (
          <div className="notice fl-answer" role="status" data-testid="predict-result" data-class={answer.prediction.class}>
            <p className="fl-answer-label">
              {t("predict.answer", { label: label(answer), confidence: `${(answer.prediction.confidence * 100).toFixed(1)}%` })}
            </p>
            <p className="muted">{t("predict.request", { id: answer.requestId.toString(), cls: answer.prediction.class })}</p>
            {answer.prediction.probabilities.length === 10 && (
              <ol className="fl-probs" start={0}>
                {answer.prediction.probabilities.map((pr, i) => (
                  <li key={i}>
                    <span className="fl-prob-label">{classKind(answer.task.specInfo) === "digit" ? i : t(`fl.class.${i as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}`)}</span>
                    <span className="fl-prob-bar" style={{ width: `${Math.round(pr * 50)}%` }} aria-hidden="true" /> {(pr * 100).toFixed(1)}%
                  </li>
                ))}
              </ol>
            )}
          </div>
        )}
      </div>
    </section>
  );
}

/// The 784 bytes shown back, enlarged, as the model will read them.
function Preview({ pixels }: { pixels: Uint8Array }) {
  const { t } = useI18n();
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = ctx2d(c);
    const img = ctx.createImageData(SIDE, SIDE);
    pixels.forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
    ctx.putImageData(img, 0, 0);
  }, [pixels]);
  return (
    <figure className="fl-preview">
      <canvas ref={ref} width={SIDE} height={SIDE} role="img" aria-label={t("predict.preview")} data-testid="predict-preview" />
      <figcaption className="muted">{t("predict.preview")}</figcaption>
    </figure>
  );
}

const PAD = 280;

/// A black square to draw on in white (mouse, pen or finger), read as 28×28 after every stroke.
function DrawPad({ onChange }: { onChange(px: Uint8Array): void }) {
  const { t } = useI18n();
  const ref = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const clear = () => {
    const c = ref.current;
    if (!c) return;
    const ctx = ctx2d(c);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, PAD, PAD);
    onChange(drawingToPixels(c));
  };
  // Painted black once, when the pad appears.
  useEffect(clear, []);
  const at = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height] as const;
  };
  const down = (e: PointerEvent<HTMLCanvasElement>) => {
    const ctx = ctx2d(e.currentTarget);
    e.currentTarget.setPointerCapture(e.pointerId);
    drawing.current = true;
    const [x, y] = at(e);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 22;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y);
    ctx.stroke();
  };
  const move = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!drawing.current) return;
    const ctx = ctx2d(e.currentTarget);
    const [x, y] = at(e);
    ctx.lineTo(x, y);
    ctx.stroke();
  };
  const up = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!drawing.current) return;
    drawing.current = false;
    onChange(drawingToPixels(e.currentTarget));
  };
  return (
    <div className="fl-drawpad">
      <canvas
        ref={ref}
        width={PAD}
        height={PAD}
        role="img"
        aria-label={t("predict.drawLabel")}
        onPointerDown={down}
        onPointerMove={move}
        onPointerUp={up}
        onPointerCancel={up}
        data-testid="predict-canvas"
      />
      <button type="button" className="btn" onClick={clear}>
        {t("digit.clear")}
      </button>
      <p className="hint">{t("predict.drawHint")}</p>
    </div>
  );
}
