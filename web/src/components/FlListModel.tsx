// A finished reward-pool task's model on the compute market: the investor lists it as an
// AI-inference service (price and maximum run time, `listService` through the wallet, the new
// service's id once mined); everyone sees the services the node runs for it. Shareholding models
// are not listed here (their fees go to the shareholders through paid predictions).
import { useEffect, useId, useState, type FormEvent } from "react";
import type { Hex } from "viem";
import { api, type NetworkInfo } from "../lib/api";
import { fetchListing, listServiceCall, readTerms, runningServices, serviceIdFromReceipt, type ModelListing } from "../lib/flListing";
import type { FlTask } from "../lib/fl";
import { routeHref } from "../lib/route";
import type { Tokens } from "../lib/services";
import { errorText, type Wallet } from "../lib/wallet";
import { useFlTx } from "../hooks/useFlTx";
import { useI18n } from "../i18n-context";
import { TxStatus } from "./FlCommon";

interface Props {
  task: FlTask;
  me: Hex | null;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
}

export function FlListModel({ task, me, wallet, chainOk, tokens }: Props) {
  const { t } = useI18n();
  const [net, setNet] = useState<NetworkInfo | null>(null);
  const [listing, setListing] = useState<ModelListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [price, setPrice] = useState("");
  const [runTime, setRunTime] = useState("300");
  const [problem, setProblem] = useState<"price" | "runTime" | null>(null);
  const [listed, setListed] = useState<number | null>(null);
  const runner = useFlTx(net, wallet, chainOk, listing?.computeMarket ?? null);
  const priceId = useId();
  const runTimeId = useId();
  const action = `list:${task.id}`;

  useEffect(() => {
    let cancelled = false;
    Promise.all([api.network(), fetchListing(task.id)]).then(
      ([n, l]) => {
        if (cancelled) return;
        setNet(n);
        setListing(l);
      },
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [task.id, version]);

  // A listing just mined shows up in the node's index a block or two later: look again until it does.
  useEffect(() => {
    if (listed === null || listing?.listed.some((s) => s.id === listed)) return;
    const timer = setTimeout(() => setVersion((v) => v + 1), 1500);
    return () => clearTimeout(timer);
  }, [listed, listing]);

  if (!listing) {
    return error ? (
      <p className="notice notice-error" role="alert">
        {t("error.load", { message: error })}
      </p>
    ) : null;
  }
  const running = runningServices(listing);
  const isInvestor = me !== null && me === listing.investor;
  const token = tokens[listing.token];
  const decimals = token?.decimals ?? 18;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const terms = readTerms(price, runTime, decimals);
    if (!terms.ok) {
      setProblem(terms.problem);
      return;
    }
    setProblem(null);
    const receipt = await runner.run(action, listServiceCall(listing, terms.price, terms.maxRunTime));
    if (!receipt) return;
    try {
      setListed(serviceIdFromReceipt(listing.computeMarket, receipt));
    } catch (err) {
      runner.fail(action, errorText(err));
    }
  };

  return (
    <div className="fl-actions" data-testid="fl-listing">
      <h3>{t("fl.listing.title")}</h3>
      {running.length > 0 ? (
        <ul data-testid="fl-listed">
          {running.map((s) => (
            <li key={s.id} data-service={s.id}>
              <a href={routeHref("market")}>{t("fl.listing.listedAs", { id: s.id })}</a>
            </li>
          ))}
        </ul>
      ) : (
        !isInvestor && <p className="muted">{t("fl.listing.none")}</p>
      )}
      {listed !== null && !listing.listed.some((s) => s.id === listed) && (
        <p className="status-line" role="status" data-testid="fl-listing-pending">
          {t("fl.listing.indexing", { id: listed })}
        </p>
      )}
      {isInvestor && (
        <form className="fl-list-form" onSubmit={(e) => void submit(e)} noValidate>
          <p className="muted">{t("fl.listing.hint")}</p>
          <div className="inline-row">
            <label htmlFor={priceId}>{t("fl.listing.price", { symbol: token?.symbol ?? listing.token })}</label>
            <input
              id={priceId}
              inputMode="decimal"
              value={price}
              onChange={(e) => setPrice(e.target.value)}
              aria-invalid={problem === "price"}
              aria-describedby={problem === "price" ? `${priceId}-problem` : undefined}
              data-testid="fl-listing-price"
            />
          </div>
          <div className="inline-row">
            <label htmlFor={runTimeId}>{t("fl.listing.runTime")}</label>
            <input
              id={runTimeId}
              type="number"
              min={1}
              step={1}
              value={runTime}
              onChange={(e) => setRunTime(e.target.value)}
              aria-invalid={problem === "runTime"}
              aria-describedby={problem === "runTime" ? `${runTimeId}-problem` : undefined}
              data-testid="fl-listing-runtime"
            />
          </div>
          {problem && (
            <p id={`${problem === "price" ? priceId : runTimeId}-problem`} className="notice notice-error" role="alert">
              {t(problem === "price" ? "fl.listing.badPrice" : "fl.listing.badRunTime")}
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={!chainOk || runner.busy || !net} data-testid="fl-list-model">
            {t("fl.listing.submit")}
          </button>
          <TxStatus tx={runner.tx} action={action} />
        </form>
      )}
    </div>
  );
}
