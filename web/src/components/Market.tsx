import type { Service } from "../lib/api";
import { shortAddress } from "../lib/format";
import { localized } from "../lib/i18n";
import { serviceName, servicePrice, type Tokens } from "../lib/services";
import { useI18n } from "../i18n-context";

interface Props {
  services: Service[] | null;
  /// The services could not be loaded (the page says why elsewhere).
  failed: boolean;
  tokens: Tokens;
  onBuy(service: Service): void;
}

export function Market({ services, failed, tokens, onBuy }: Props) {
  const { t, lang } = useI18n();
  const active = (services ?? []).filter((s) => s.active);
  return (
    <section id="market" className="section" aria-labelledby="market-title">
      <h1 id="market-title" tabIndex={-1}>{t("market.title")}</h1>
      <p className="lead">{t("market.lead")}</p>
      {services === null ? (
        <p className="muted" role="status">
          {failed ? t("market.unavailable") : t("market.loading")}
        </p>
      ) : active.length === 0 ? (
        <p className="muted">{t("market.empty")}</p>
      ) : (
        <ul className="cards" data-testid="services">
          {active.map((s) => {
            const name = serviceName(s, lang, t("market.unnamed", { id: s.id }));
            const price = servicePrice(s, tokens);
            return (
              <li key={s.id} className="card" data-testid={`service-${s.id}`}>
                <h2 className="card-title">{name}</h2>
                <p className="card-text">{localized(s.metadata?.description, lang) ?? ""}</p>
                <dl className="card-facts">
                  <div>
                    <dt>{t("market.price")}</dt>
                    <dd className="price" data-testid={`price-${s.id}`}>
                      {price ?? "…"}
                    </dd>
                  </div>
                  <div>
                    <dt>{t("market.provider")}</dt>
                    <dd className="mono" title={s.provider}>
                      {shortAddress(s.provider)}
                    </dd>
                  </div>
                  <div>
                    <dt>{t("market.maxRunTime")}</dt>
                    <dd>{t("market.seconds", { n: s.maxRunTime })}</dd>
                  </div>
                </dl>
                <button
                  type="button"
                  className="btn btn-primary btn-block"
                  onClick={() => onBuy(s)}
                  aria-label={t("market.buyNamed", { name })}
                  data-testid={`buy-${s.id}`}
                >
                  {t("market.buy")}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
