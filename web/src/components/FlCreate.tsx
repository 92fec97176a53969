// Creating a federated-learning task (the seed's step 3), in either mode: a reward pool (an amount
// in ETH or MarketToken, escrowed now) or shareholding (a prediction fee shared by the
// shareholders); the data set, its split (IID or Dirichlet α), the aggregator (FedAvg, or a robust
// median or trimmed mean), blocks, rounds, local epochs and members needed;
// the price of a data block in MarketToken; the deadlines. The spec goes to `/api/fl/specs`, then
// the wallet approves a token pool and sends `createTask`; the page then opens the new task.
import { useId, useState, type FormEvent } from "react";
import type { Hex } from "viem";
import type { NetworkInfo } from "../lib/api";
import { ETH_TOKEN } from "../lib/abi";
import { parseAmountInput } from "../lib/channels";
import type { FlMode } from "../lib/fl";
import { AGGREGATORS, DATASETS, DEFAULT_SPEC, MODELS, type AggregatorKind, type Dataset, type ModelKind, type SpecForm } from "../lib/flCalls";
import { flHref } from "../lib/route";
import type { Tokens } from "../lib/services";
import type { FlMarket } from "../hooks/useFlMarket";
import { useI18n } from "../i18n-context";
import { TxStatus } from "./FlCommon";

interface Props {
  net: NetworkInfo;
  chainOk: boolean;
  tokens: Tokens;
  fl: FlMarket;
}

export function FlCreate({ net, chainOk, tokens, fl }: Props) {
  const { t } = useI18n();
  const id = useId();
  const [mode, setMode] = useState<FlMode>("reward");
  const [token, setToken] = useState<Hex>(ETH_TOKEN);
  const [pool, setPool] = useState("1");
  const [fee, setFee] = useState("");
  const [blockPrice, setBlockPrice] = useState("10");
  const [forSale, setForSale] = useState("50");
  const [startHours, setStartHours] = useState("24");
  const [finishHours, setFinishHours] = useState("72");
  const [spec, setSpec] = useState<SpecForm>({ ...DEFAULT_SPEC });
  const [alpha, setAlpha] = useState("0.5");
  const [error, setError] = useState<string | null>(null);

  const tokenInfo = tokens[token.toLowerCase()];
  const blockInfo = tokens[net.marketToken.toLowerCase()];
  const decimals = tokenInfo?.decimals ?? 18;
  const num = (s: string) => (s.trim() === "" ? NaN : Number(s));
  const setNum = (k: keyof SpecForm) => (e: { target: { value: string } }) => setSpec((f) => ({ ...f, [k]: num(e.target.value) }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const poolValue = mode === "reward" ? parseAmountInput(pool, decimals) : 0n;
    if (mode === "reward" && poolValue === null) return setError(t("fl.create.badAmount", { field: t("fl.pool") }));
    const feeValue = fee.trim() === "" ? 0n : parseAmountInput(fee, decimals);
    if (feeValue === null || (mode === "shares" && feeValue === 0n)) return setError(t("fl.create.badAmount", { field: t("fl.fee") }));
    const priceValue = blockPrice.trim() === "" || blockPrice.trim() === "0" ? 0n : parseAmountInput(blockPrice, blockInfo?.decimals ?? 18);
    if (priceValue === null) return setError(t("fl.create.badAmount", { field: t("fl.blockPriceLabel") }));
    const sh = num(startHours);
    const fh = num(finishHours);
    if (!(sh > 0) || !(fh > 0) || sh + fh > 365 * 24) return setError(t("fl.create.badHours"));
    const partition = spec.partition.kind === "dirichlet" ? { kind: "dirichlet" as const, alpha: num(alpha) } : spec.partition;
    const created = await fl.create({
      mode,
      token,
      pool: poolValue ?? 0n,
      predictionFee: feeValue,
      blockPrice: priceValue,
      blocksForSale: num(forSale),
      startHours: sh,
      finishHours: fh,
      spec: { ...spec, partition },
    });
    if (created !== null) window.location.hash = flHref({ page: "task", id: created });
  };

  const f = (k: string) => `${id}-${k}`;
  return (
    <details className="panel fl-create" data-testid="fl-create">
      <summary>{t("fl.create.title")}</summary>
      <form className="create-form" onSubmit={(e) => void submit(e)}>
        <fieldset className="fl-fieldset">
          <legend>{t("fl.create.mode")}</legend>
          {(["reward", "shares"] as const).map((m) => (
            <label key={m} className="toggle">
              <input type="radio" name={f("mode")} value={m} checked={mode === m} onChange={() => setMode(m)} data-testid={`fl-create-mode-${m}`} />
              {t(`fl.mode.${m}`)} <span className="muted">— {t(`fl.modeHint.${m}`)}</span>
            </label>
          ))}
        </fieldset>
        <div className="inline-row">
          <div className="field">
            <label htmlFor={f("token")}>{t("fl.create.token")}</label>
            <select id={f("token")} value={token} onChange={(e) => setToken(e.target.value as Hex)} data-testid="fl-create-token">
              <option value={ETH_TOKEN}>ETH</option>
              <option value={net.marketToken}>{blockInfo?.symbol ?? "MarketToken"}</option>
            </select>
          </div>
          {mode === "reward" && (
            <div className="field">
              <label htmlFor={f("pool")}>{t("fl.pool")}</label>
              <input id={f("pool")} inputMode="decimal" value={pool} onChange={(e) => setPool(e.target.value)} data-testid="fl-create-pool" />
            </div>
          )}
          <div className="field">
            <label htmlFor={f("fee")}>{mode === "shares" ? t("fl.fee") : t("fl.create.feeOptional")}</label>
            <input id={f("fee")} inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value)} data-testid="fl-create-fee" />
          </div>
          <div className="field">
            <label htmlFor={f("price")}>{t("fl.create.blockPriceIn", { symbol: blockInfo?.symbol ?? "MarketToken" })}</label>
            <input id={f("price")} inputMode="decimal" value={blockPrice} onChange={(e) => setBlockPrice(e.target.value)} data-testid="fl-create-block-price" />
          </div>
        </div>
        <div className="inline-row">
          <div className="field">
            <label htmlFor={f("dataset")}>{t("fl.spec.dataset")}</label>
            <select id={f("dataset")} value={spec.dataset} onChange={(e) => setSpec((s) => ({ ...s, dataset: e.target.value as Dataset }))} data-testid="fl-create-dataset">
              {DATASETS.map((d) => (
                <option key={d} value={d}>
                  {t(`fl.dataset.${d}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={f("model")}>{t("fl.spec.model")}</label>
            <select id={f("model")} value={spec.model} onChange={(e) => setSpec((s) => ({ ...s, model: e.target.value as ModelKind }))} data-testid="fl-create-model">
              {MODELS.map((m) => (
                <option key={m} value={m}>
                  {t(`fl.model.${m}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={f("aggregator")}>{t("fl.spec.aggregator")}</label>
            <select id={f("aggregator")} value={spec.aggregator} onChange={(e) => setSpec((s) => ({ ...s, aggregator: e.target.value as AggregatorKind }))}>
              {AGGREGATORS.map((m) => (
                <option key={m} value={m}>
                  {t(`fl.aggregator.${m}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={f("partition")}>{t("fl.spec.partition")}</label>
            <select
              id={f("partition")}
              value={spec.partition.kind}
              onChange={(e) => setSpec((s) => ({ ...s, partition: e.target.value === "iid" ? { kind: "iid" } : { kind: "dirichlet", alpha: num(alpha) } }))}
              data-testid="fl-create-partition"
            >
              <option value="iid">{t("fl.partition.iid")}</option>
              <option value="dirichlet">{t("fl.partition.dirichlet")}</option>
            </select>
          </div>
          {spec.partition.kind === "dirichlet" && (
            <div className="field">
              <label htmlFor={f("alpha")}>α</label>
              <input id={f("alpha")} inputMode="decimal" value={alpha} onChange={(e) => setAlpha(e.target.value)} />
            </div>
          )}
        </div>
        <div className="inline-row">
          {(["blocks", "blocksPerMember", "rounds", "localEpochs", "minParticipants"] as const).map((k) => (
            <div className="field" key={k}>
              <label htmlFor={f(k)}>{t(`fl.spec.${k}`)}</label>
              <input id={f(k)} type="number" min={1} step={1} value={Number.isNaN(spec[k]) ? "" : spec[k]} onChange={setNum(k)} data-testid={`fl-create-${k}`} />
            </div>
          ))}
        </div>
        <div className="inline-row">
          <div className="field">
            <label htmlFor={f("forSale")}>{t("fl.create.forSale")}</label>
            <input id={f("forSale")} type="number" min={1} step={1} value={forSale} onChange={(e) => setForSale(e.target.value)} data-testid="fl-create-for-sale" />
          </div>
          <div className="field">
            <label htmlFor={f("start")}>{t("fl.create.startHours")}</label>
            <input id={f("start")} type="number" min={1} value={startHours} onChange={(e) => setStartHours(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={f("finish")}>{t("fl.create.finishHours")}</label>
            <input id={f("finish")} type="number" min={1} value={finishHours} onChange={(e) => setFinishHours(e.target.value)} />
          </div>
        </div>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={!chainOk || fl.busy} data-testid="fl-create-submit">
          {mode === "reward" ? t("fl.create.submitPool") : t("fl.create.submitShares")}
        </button>
        <TxStatus tx={fl.tx} action="create" />
      </form>
    </details>
  );
}
