// The data market page (`#/data`): the sellers in the registry with their ratings and orders, each
// seller's signed menu read live from the seller, buying an item with the wallet (escrow, then the
// transfer with a live progress bar: bytes, amount paid so far, rate; pause, resume, stop; the whole
// item's SHA-256 checked and saved from a Blob URL), the rating sent with `exit`, and the buyer's
// orders with their state, settle and the on-chain rating.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { Hex } from "viem";
import type { DataOrder, DataSeller, NetworkInfo } from "../lib/api";
import { averageScore, canSettle, formatBytes, formatRate, isFinished } from "../lib/dataMarket";
import type { Item } from "../lib/datastream";
import { formatAmount, shortAddress, shortHash } from "../lib/format";
import type { Tokens } from "../lib/services";
import type { Wallet } from "../lib/wallet";
import { useDataMarket, type DataMarketState, type Purchase } from "../hooks/useDataMarket";
import { useI18n } from "../i18n-context";
import { TxHash } from "./TxHash";

interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
  onConnect(): void;
  onBalancesChanged(): void;
}

/// `amount` in `token`'s units with every decimal (the exact integer, readable), or the raw
/// integer and the token's address when the page does not know the token.
function useAmount(tokens: Tokens) {
  return (value: bigint | string, token: string) => {
    const info = tokens[token.toLowerCase()];
    return info ? formatAmount(value, info.decimals, info.symbol, info.decimals) : `${value} (${shortAddress(token)})`;
  };
}

export function DataMarketPage(p: Props) {
  const { t } = useI18n();
  const dm = useDataMarket({ net: p.net, wallet: p.wallet, chainOk: p.chainOk, onBalancesChanged: p.onBalancesChanged });
  const canBuy = !!p.wallet && p.chainOk;

  return (
    <section className="section data-market" aria-labelledby="data-title" data-testid="data-market">
      <h1 id="data-title" tabIndex={-1}>
        {t("data.title")}
      </h1>
      <p className="lead">{t("data.lead")}</p>
      {p.net && !dm.market && (
        <p className="notice notice-warn" role="status">
          {t("data.noMarket")}
        </p>
      )}
      {dm.market && (
        <>
          {!p.wallet && (
            <p className="notice">
              {t("data.connectFirst")}{" "}
              <button type="button" className="btn" onClick={p.onConnect}>
                {t("wallet.connect")}
              </button>
            </p>
          )}
          {dm.purchase && <PurchasePanel dm={dm} purchase={dm.purchase} tokens={p.tokens} />}
          <Sellers dm={dm} tokens={p.tokens} canBuy={canBuy} />
          {p.wallet && <MyOrders dm={dm} tokens={p.tokens} canTransact={canBuy} />}
        </>
      )}
    </section>
  );
}

// ---------------------------------------------------------------- sellers and menus

function Sellers({ dm, tokens, canBuy }: { dm: DataMarketState; tokens: Tokens; canBuy: boolean }) {
  const { t } = useI18n();
  return (
    <section className="section" aria-labelledby="data-sellers-title">
      <div className="section-head">
        <h2 id="data-sellers-title">{t("data.sellers")}</h2>
        <button type="button" className="btn" onClick={() => void dm.reloadSellers()}>
          {t("data.reload")}
        </button>
      </div>
      {dm.sellersError && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: dm.sellersError })}
        </p>
      )}
      {dm.sellers === null ? (
        !dm.sellersError && (
          <p className="muted" role="status">
            {t("data.loadingSellers")}
          </p>
        )
      ) : dm.sellers.length === 0 ? (
        <p className="muted">{t("data.noSellers")}</p>
      ) : (
        <ul className="cards data-sellers" data-testid="data-sellers">
          {dm.sellers.map((s) => (
            <SellerCard key={s.address} dm={dm} seller={s} tokens={tokens} canBuy={canBuy} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SellerCard({ dm, seller, tokens, canBuy }: { dm: DataMarketState; seller: DataSeller; tokens: Tokens; canBuy: boolean }) {
  const { t } = useI18n();
  const key = seller.address.toLowerCase();
  const menu = dm.menus[key];
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const avg = averageScore(seller.rating);
  const count = dm.orderCounts[key];
  const toggle = () => {
    const next = !open;
    setOpen(next);
    if (next && menu?.status !== "ok") void dm.readMenu(seller);
  };
  return (
    <li className="card data-seller" data-testid={`data-seller-${key}`}>
      <h3 className="card-title mono" title={seller.address}>
        {shortAddress(seller.address)}
      </h3>
      <dl className="facts">
        <div>
          <dt>{t("data.endpoint")}</dt>
          <dd className="mono" data-testid="seller-endpoint">
            {seller.endpoint}
          </dd>
        </div>
        <div>
          <dt>{t("data.rating")}</dt>
          <dd data-testid="seller-rating">
            {avg === null ? t("data.unrated") : t("data.ratingValue", { avg, count: seller.rating.count })}
          </dd>
        </div>
        <div>
          <dt>{t("data.orders")}</dt>
          <dd data-testid="seller-orders">{count === undefined || count < 0 ? "…" : count >= 100 ? "100+" : count}</dd>
        </div>
      </dl>
      <button type="button" className="btn" aria-expanded={open} aria-controls={menuId} onClick={toggle} data-testid="show-menu">
        {open ? t("data.hideMenu") : t("data.showMenu")}
      </button>
      <div id={menuId} hidden={!open}>
        {open && menu?.status === "loading" && (
          <p className="muted" role="status">
            {t("data.readingMenu")}
          </p>
        )}
        {open && menu?.status === "error" && (
          <div className="notice notice-error" role="alert" data-testid="menu-error">
            <p>{t("data.menuFailed", { message: menu.error })}</p>
            <button type="button" className="btn" onClick={() => void dm.readMenu(seller)}>
              {t("data.retry")}
            </button>
          </div>
        )}
        {open && menu?.status === "ok" && (
          <MenuItems dm={dm} seller={seller} items={menu.menu.items} confirmations={menu.menu.confirmations} tokens={tokens} canBuy={canBuy} />
        )}
      </div>
    </li>
  );
}

function MenuItems(p: { dm: DataMarketState; seller: DataSeller; items: Item[]; confirmations: number; tokens: Tokens; canBuy: boolean }) {
  const { t } = useI18n();
  const amount = useAmount(p.tokens);
  const busy = !!p.dm.purchase && !["complete", "stopped", "failed", "paused"].includes(p.dm.purchase.phase);
  if (p.items.length === 0) return <p className="muted">{t("data.emptyMenu")}</p>;
  return (
    <>
      <p className="muted">{t("data.menuSigned", { n: p.confirmations })}</p>
      <ul className="data-items" data-testid="data-menu">
        {p.items.map((i) => (
          <li key={i.name} className="data-item" data-testid="data-item">
            <h4 className="mono wrap">{i.name}</h4>
            <dl className="facts">
              <div>
                <dt>{t("data.size")}</dt>
                <dd>
                  {formatBytes(i.size)} <span className="muted">({t("data.bytes", { n: i.size.toLocaleString("en") })})</span>
                </dd>
              </div>
              <div>
                <dt>{t("data.price")}</dt>
                <dd data-testid="item-price">{amount(i.price, i.token)}</dd>
              </div>
              <div>
                <dt>{t("data.chunk")}</dt>
                <dd>{formatBytes(i.chunkSize)}</dd>
              </div>
              <div>
                <dt>SHA-256</dt>
                <dd className="mono" title={i.sha256}>
                  {shortHash(i.sha256)}
                </dd>
              </div>
            </dl>
            <button
              type="button"
              className="btn btn-primary"
              disabled={!p.canBuy || busy}
              onClick={() => void p.dm.buy(p.seller, i)}
              aria-label={t("data.buyNamed", { name: i.name, price: amount(i.price, i.token) })}
              data-testid="buy-item"
            >
              {t("data.buy")}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

// ---------------------------------------------------------------- the purchase

const ACTIVE = ["connecting", "escrow", "streaming"] as const;

function PurchasePanel({ dm, purchase: pu, tokens }: { dm: DataMarketState; purchase: Purchase; tokens: Tokens }) {
  const { t } = useI18n();
  const amount = useAmount(tokens);
  const heading = useRef<HTMLHeadingElement>(null);
  const percent = pu.total ? Math.floor((pu.received * 100) / pu.total) : 0;
  const active = (ACTIVE as readonly string[]).includes(pu.phase);
  const txPhase = ["approve", "simulate", "wallet", "mining"].includes(pu.phase);
  useEffect(() => heading.current?.focus(), []);

  return (
    <section className="panel data-purchase" aria-labelledby="data-purchase-title" data-testid="data-purchase" data-phase={pu.phase}>
      <h2 id="data-purchase-title" ref={heading} tabIndex={-1}>
        {t("data.purchaseOf", { name: pu.item.name })}
      </h2>
      <p className="muted">
        {t("data.from", { seller: shortAddress(pu.seller.address) })}
        {pu.orderId && (
          <>
            {" · "}
            {t("data.order")} <code className="mono" title={pu.orderId} data-testid="purchase-order">{shortHash(pu.orderId)}</code>
          </>
        )}
      </p>
      <p className="status-line" role="status" data-testid="purchase-status">
        {t(`data.phase.${pu.phase}`)}
        {txPhase && pu.txHash && (
          <>
            {" "}
            <TxHash hash={pu.txHash} />
          </>
        )}
      </p>
      <div className="data-progress">
        <label htmlFor="data-progress-bar" className="sr-only">
          {t("data.progressLabel")}
        </label>
        <progress id="data-progress-bar" max={pu.total} value={pu.received} data-testid="progress-bar" />
        <dl className="facts">
          <div>
            <dt>{t("data.received")}</dt>
            <dd data-testid="progress-bytes" data-received={pu.received} data-total={pu.total}>
              {t("data.receivedOf", { received: formatBytes(pu.received), total: formatBytes(pu.total), percent })}
            </dd>
          </div>
          <div>
            <dt>{t("data.paid")}</dt>
            <dd data-testid="progress-paid" data-paid={pu.paid.toString()}>
              {t("data.paidOf", { paid: amount(pu.paid, pu.item.token), price: amount(pu.item.price, pu.item.token) })}
            </dd>
          </div>
          <div>
            <dt>{t("data.rate")}</dt>
            <dd data-testid="progress-rate">{active ? formatRate(pu.rate) : "—"}</dd>
          </div>
        </dl>
      </div>
      {pu.error && (
        <div className="notice notice-error" role="alert" data-testid="purchase-error" data-code={pu.error.code ?? ""}>
          <p>
            {pu.error.code
              ? t(pu.error.peer ? "data.sellerError" : "data.streamError", { code: pu.error.code, message: pu.error.message })
              : pu.error.message}
          </p>
        </div>
      )}
      {pu.phase === "stopped" && (
        <p className="notice" data-testid="purchase-stopped">
          {t(pu.stoppedBySeller ? "data.stoppedBySeller" : "data.stoppedNote", { paid: amount(pu.paid, pu.item.token) })}
        </p>
      )}
      {pu.phase === "complete" && pu.blobUrl && (
        <div className="notice data-done" data-testid="purchase-complete">
          <p>{t("data.checked", { hash: shortHash(pu.item.sha256) })}</p>
          <a className="btn btn-primary" href={pu.blobUrl} download={pu.item.name.split("/").pop() || "data.bin"} data-testid="save-item">
            {t("data.save", { name: pu.item.name })}
          </a>
        </div>
      )}
      <div className="inline-row data-actions">
        {active && (
          <button type="button" className="btn" onClick={dm.pause} data-testid="pause">
            {t("data.pause")}
          </button>
        )}
        {pu.phase === "streaming" && (
          <button type="button" className="btn" onClick={dm.stop} data-testid="stop">
            {t("data.stop")}
          </button>
        )}
        {(pu.phase === "paused" || (pu.phase === "failed" && pu.escrowTx)) && (
          <button type="button" className="btn btn-primary" onClick={dm.resume} data-testid="resume">
            {t("data.resume")}
          </button>
        )}
        {["complete", "stopped", "failed", "paused"].includes(pu.phase) && (
          <button type="button" className="btn" onClick={dm.dismiss}>
            {t("data.close")}
          </button>
        )}
      </div>
      {pu.escrowTx && !["complete", "stopped"].includes(pu.phase) && <ExitRating dm={dm} />}
    </section>
  );
}

/// The rating of the seller that travels in the buyer's `exit`.
function ExitRating({ dm }: { dm: DataMarketState }) {
  const { t } = useI18n();
  const scoreId = useId();
  const commentId = useId();
  const [score, setScore] = useState("");
  const [comment, setComment] = useState("");
  useEffect(() => {
    dm.setRating(score ? { score: Number(score), comment } : null);
  }, [score, comment, dm.setRating]);
  return (
    <fieldset className="data-exit-rating">
      <legend>{t("data.exitRating")}</legend>
      <div className="inline-row">
        <label htmlFor={scoreId}>{t("data.score")}</label>
        <select id={scoreId} value={score} onChange={(e) => setScore(e.target.value)} data-testid="exit-score">
          <option value="">{t("data.noRating")}</option>
          {[5, 4, 3, 2, 1].map((n) => (
            <option key={n} value={n}>
              {t("data.stars", { n })}
            </option>
          ))}
        </select>
        <label htmlFor={commentId}>{t("data.comment")}</label>
        <input id={commentId} value={comment} maxLength={200} onChange={(e) => setComment(e.target.value)} data-testid="exit-comment" />
      </div>
    </fieldset>
  );
}

// ---------------------------------------------------------------- my orders

function MyOrders({ dm, tokens, canTransact }: { dm: DataMarketState; tokens: Tokens; canTransact: boolean }) {
  const { t } = useI18n();
  const amount = useAmount(tokens);
  return (
    <section className="section" aria-labelledby="data-orders-title">
      <div className="section-head">
        <h2 id="data-orders-title">{t("data.myOrders")}</h2>
        <button type="button" className="btn" onClick={() => void dm.reloadOrders()}>
          {t("data.reload")}
        </button>
      </div>
      {dm.ordersError && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: dm.ordersError })}
        </p>
      )}
      {dm.txError && (
        <p className="notice notice-error" role="alert" data-testid="data-tx-error">
          {dm.txError}
        </p>
      )}
      {dm.orders === null ? (
        !dm.ordersError && <p className="muted">{t("data.loadingOrders")}</p>
      ) : dm.orders.length === 0 ? (
        <p className="muted">{t("data.noOrders")}</p>
      ) : (
        <ul className="data-orders" data-testid="data-orders">
          {dm.orders.map((o) => (
            <OrderRow key={o.id} dm={dm} order={o} amount={amount} canTransact={canTransact} />
          ))}
        </ul>
      )}
    </section>
  );
}

function OrderRow(p: { dm: DataMarketState; order: DataOrder; amount: (v: bigint | string, token: string) => string; canTransact: boolean }) {
  const { t } = useI18n();
  const { dm, order: o } = p;
  const local = dm.localOrder(o.id);
  const rated = dm.ratedHere[o.id] ?? (local?.ratedOnChain ? (local.rating?.score ?? 0) : undefined);
  const busy = dm.tx?.orderId === o.id ? dm.tx : null;
  return (
    <li className="card data-order" data-testid={`data-order-${o.id}`} data-state={o.state}>
      <h3 className="card-title">
        {local ? <span className="mono wrap">{local.order.item}</span> : <code className="mono">{shortHash(o.id)}</code>}{" "}
        <span className={`badge ${isFinished(o) ? "badge-ok" : "badge-warn"}`} data-testid="order-state">
          {t(`data.state.${o.state}`)}
        </span>
      </h3>
      <dl className="facts">
        <div>
          <dt>{t("data.order")}</dt>
          <dd className="mono" title={o.id}>
            {shortHash(o.id)}
          </dd>
        </div>
        <div>
          <dt>{t("data.seller")}</dt>
          <dd className="mono" title={o.seller}>
            {shortAddress(o.seller)}
          </dd>
        </div>
        <div>
          <dt>{t("data.received")}</dt>
          <dd data-testid="order-received">{t("data.receivedOf", { received: formatBytes(o.received), total: formatBytes(o.totalBytes), percent: Math.floor((o.received * 100) / Math.max(1, o.totalBytes)) })}</dd>
        </div>
        <div>
          <dt>{t("data.price")}</dt>
          <dd>{p.amount(o.price, o.token)}</dd>
        </div>
        {o.paidToSeller != null && (
          <div>
            <dt>{t("data.paidToSeller")}</dt>
            <dd data-testid="order-paid">{p.amount(o.paidToSeller, o.token)}</dd>
          </div>
        )}
        {o.refundedToBuyer != null && (
          <div>
            <dt>{t("data.refunded")}</dt>
            <dd data-testid="order-refunded">{p.amount(o.refundedToBuyer, o.token)}</dd>
          </div>
        )}
        {o.state === "Ending" && o.settleAt != null && (
          <div>
            <dt>{t("data.settleAt")}</dt>
            <dd>{new Date(o.settleAt * 1000).toLocaleString()}</dd>
          </div>
        )}
      </dl>
      {busy && (
        <p className="muted" role="status" data-testid="order-tx">
          {t(busy.action === "settle" ? "data.settling" : "data.rating.sending")} {busy.hash && <TxHash hash={busy.hash} />}
        </p>
      )}
      {canSettle(o, dm.chainTime) && (
        <button type="button" className="btn" disabled={!p.canTransact || !!dm.tx} onClick={() => void dm.settle(o.id as Hex)} data-testid="settle">
          {t("data.settle")}
        </button>
      )}
      {isFinished(o) &&
        (rated !== undefined ? (
          <p className="muted" data-testid="order-rated">
            {t("data.rated")}
          </p>
        ) : (
          <RateForm dm={dm} order={o} initial={local?.rating ?? null} disabled={!p.canTransact || !!dm.tx} />
        ))}
    </li>
  );
}

function RateForm(p: { dm: DataMarketState; order: DataOrder; initial: { score: number; comment: string } | null; disabled: boolean }) {
  const { t } = useI18n();
  const scoreId = useId();
  const commentId = useId();
  const [score, setScore] = useState(String(p.initial?.score ?? 5));
  const [comment, setComment] = useState(p.initial?.comment ?? "");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void p.dm.rate(p.order.id as Hex, Number(score), comment);
  };
  return (
    <form className="inline-form" onSubmit={submit} data-testid="rate-form">
      <div className="inline-row">
        <label htmlFor={scoreId}>{t("data.rateSeller")}</label>
        <select id={scoreId} value={score} onChange={(e) => setScore(e.target.value)} data-testid="rate-score">
          {[5, 4, 3, 2, 1].map((n) => (
            <option key={n} value={n}>
              {t("data.stars", { n })}
            </option>
          ))}
        </select>
        <label htmlFor={commentId}>{t("data.comment")}</label>
        <input id={commentId} value={comment} maxLength={200} onChange={(e) => setComment(e.target.value)} />
        <button type="submit" className="btn btn-primary" disabled={p.disabled} data-testid="rate-submit">
          {t("data.rateOnChain")}
        </button>
      </div>
    </form>
  );
}
