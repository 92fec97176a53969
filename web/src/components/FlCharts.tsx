// The task page's charts as inline SVG (geometry in lib/flChart.ts): the global accuracy per round
// beside the centralised reference's accuracy per epoch (dashed, with a legend), and the per-round
// contributions stacked by participant, each with a text summary for screen
// readers and the figures as a table beneath.
import { useId } from "react";
import { ipfsUrl } from "../lib/api";
import type { FlReference, FlRound } from "../lib/fl";
import { accuracyPath, CHART, colourOf, contributionBars, participantsOf, percentTicks, referencePath, scaleLinear, roundDomain } from "../lib/flChart";
import { shortAddress } from "../lib/format";
import { useI18n } from "../i18n-context";

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function XAxis({ rounds, planned }: { rounds: readonly FlRound[]; planned: number | null }) {
  const [r0, r1] = roundDomain(rounds, planned);
  const x = scaleLinear(r0, r1, CHART.left, CHART.width - CHART.right);
  const step = Math.max(1, Math.ceil((r1 - r0 + 1) / 10));
  const ticks: number[] = [];
  for (let r = r0; r <= r1; r += step) ticks.push(r);
  return (
    <g className="fl-axis" aria-hidden="true">
      <line x1={CHART.left} x2={CHART.width - CHART.right} y1={CHART.height - CHART.bottom} y2={CHART.height - CHART.bottom} />
      {ticks.map((r) => (
        <text key={r} x={x(r)} y={CHART.height - CHART.bottom + 16} textAnchor="middle">
          {r}
        </text>
      ))}
    </g>
  );
}

function YAxis({ ticks }: { ticks: { y: number; label: string }[] }) {
  return (
    <g className="fl-axis" aria-hidden="true">
      {ticks.map((tk) => (
        <g key={tk.label}>
          <line x1={CHART.left} x2={CHART.width - CHART.right} y1={tk.y} y2={tk.y} className="fl-grid" />
          <text x={CHART.left - 6} y={tk.y + 4} textAnchor="end">
            {tk.label}
          </text>
        </g>
      ))}
    </g>
  );
}

export function AccuracyChart({ rounds, planned, reference = null }: { rounds: readonly FlRound[]; planned: number | null; reference?: FlReference | null }) {
  const { t } = useI18n();
  const titleId = useId();
  const { points, d } = accuracyPath(rounds, planned);
  const ref = referencePath(reference, rounds, planned);
  const last = points[points.length - 1];
  const summary = last ? t("fl.chart.accuracySummary", { round: last.round, accuracy: pct(last.accuracy) }) : t("fl.chart.empty");
  const refLast = ref.points[ref.points.length - 1];
  const refSummary = reference && refLast
    ? reference.complete
      ? t("fl.chart.referenceDone", { epochs: reference.epochs, samples: reference.samples, accuracy: pct(refLast.accuracy) })
      : t("fl.chart.referenceRunning", { epoch: refLast.epoch, epochs: reference.epochs, accuracy: pct(refLast.accuracy) })
    : null;
  return (
    <figure className="fl-chart" data-testid="fl-accuracy-chart" data-points={points.length} data-reference-points={ref.points.length}>
      <svg viewBox={`0 0 ${CHART.width} ${CHART.height}`} role="img" aria-labelledby={titleId}>
        <title id={titleId}>{`${t("fl.chart.accuracy")}: ${summary}${refSummary ? `; ${t("fl.chart.reference")}: ${refSummary}` : ""}`}</title>
        <YAxis ticks={percentTicks()} />
        <XAxis rounds={rounds} planned={planned} />
        {ref.d && <path d={ref.d} className="fl-line-reference" fill="none" data-testid="fl-reference-line" />}
        {ref.points.map((p) => (
          <circle key={`ref-${p.epoch}`} cx={p.x} cy={p.y} r={2.5} className="fl-dot-reference">
            <title>{t("fl.chart.referencePoint", { epoch: p.epoch, accuracy: pct(p.accuracy) })}</title>
          </circle>
        ))}
        {d && <path d={d} className="fl-line" fill="none" />}
        {points.map((p) => (
          <circle key={p.round} cx={p.x} cy={p.y} r={3.5} className="fl-dot">
            <title>{t("fl.chart.point", { round: p.round, accuracy: pct(p.accuracy) })}</title>
          </circle>
        ))}
      </svg>
      <figcaption>
        {refSummary ? (
          <ul className="fl-legend" data-testid="fl-accuracy-legend">
            <li>
              <span className="fl-swatch fl-swatch-line" aria-hidden="true" /> {t("fl.chart.federated")} — {summary}
            </li>
            <li data-testid="fl-reference-legend">
              <span className="fl-swatch fl-swatch-line fl-swatch-reference" aria-hidden="true" /> {t("fl.chart.reference")} — {refSummary}
            </li>
          </ul>
        ) : (
          <>
            {t("fl.chart.accuracy")} — {summary}
          </>
        )}
      </figcaption>
    </figure>
  );
}

export function ContributionChart({ rounds }: { rounds: readonly FlRound[] }) {
  const { t } = useI18n();
  const titleId = useId();
  const { segments, max } = contributionBars(rounds);
  const people = participantsOf(rounds);
  const y = scaleLinear(0, max || 1, CHART.height - CHART.bottom, CHART.top);
  const ticks = max > 0 ? [0, max / 2, max].map((v) => ({ y: y(v), label: v.toFixed(2) })) : [];
  return (
    <figure className="fl-chart" data-testid="fl-contribution-chart" data-segments={segments.length}>
      <svg viewBox={`0 0 ${CHART.width} ${CHART.height}`} role="img" aria-labelledby={titleId}>
        <title id={titleId}>{`${t("fl.chart.contributions")}: ${rounds.length ? t("fl.chart.contributionSummary", { rounds: rounds.length, people: people.length }) : t("fl.chart.empty")}`}</title>
        <YAxis ticks={ticks} />
        <line x1={CHART.left} x2={CHART.width - CHART.right} y1={CHART.height - CHART.bottom} y2={CHART.height - CHART.bottom} className="fl-axis-line" />
        {rounds.map((r, i) => {
          const slot = (CHART.width - CHART.left - CHART.right) / rounds.length;
          return (
            <text key={r.round} x={CHART.left + slot * (i + 0.5)} y={CHART.height - CHART.bottom + 16} textAnchor="middle" className="fl-tick" aria-hidden="true">
              {r.round}
            </text>
          );
        })}
        {segments.map((s) => (
          <rect key={`${s.round}-${s.account}`} x={s.x} y={s.y} width={s.width} height={s.height} fill={colourOf(people.indexOf(s.account))}>
            <title>{t("fl.chart.segment", { round: s.round, account: shortAddress(s.account), value: s.value.toFixed(4) })}</title>
          </rect>
        ))}
      </svg>
      <figcaption>
        <ul className="fl-legend">
          {people.map((a, i) => (
            <li key={a}>
              <span className="fl-swatch" style={{ background: colourOf(i) }} aria-hidden="true" /> <span className="mono">{shortAddress(a)}</span>
            </li>
          ))}
        </ul>
        <span className="muted">{t("fl.chart.clipped")}</span>
      </figcaption>
    </figure>
  );
}

/// Every round's figures, for reading and for screen readers.
export function RoundsTable({ rounds }: { rounds: readonly FlRound[] }) {
  const { t } = useI18n();
  if (!rounds.length) return null;
  return (
    <details className="fl-rounds">
      <summary>{t("fl.roundsTable")}</summary>
      <div className="table-wrap">
        <table className="table" data-testid="fl-rounds-table">
          <thead>
            <tr>
              <th scope="col">{t("fl.round")}</th>
              <th scope="col">{t("fl.accuracy")}</th>
              <th scope="col">{t("fl.loss")}</th>
              <th scope="col">{t("fl.participant")}</th>
              <th scope="col">{t("fl.samples")}</th>
              <th scope="col">{t("fl.contribution")}</th>
              <th scope="col">{t("fl.roundRecord")}</th>
            </tr>
          </thead>
          <tbody>
            {rounds.flatMap((r) =>
              r.participants.map((p, i) => (
                <tr key={`${r.round}-${p.account}`}>
                  <td>{i === 0 ? r.round : ""}</td>
                  <td>{i === 0 && r.accuracy !== null ? pct(r.accuracy) : ""}</td>
                  <td>{p.loss === null ? "—" : p.loss.toFixed(4)}</td>
                  <td className="mono">{shortAddress(p.account)}</td>
                  <td>{p.samples}</td>
                  <td>{p.refused ? t("fl.refused", { reason: p.refused }) : p.value.toFixed(4)}</td>
                  <td>
                    {i === 0 && r.recordCid ? (
                      <a href={ipfsUrl(r.recordCid)} target="_blank" rel="noopener noreferrer" data-testid="fl-round-record">
                        {t("fl.roundRecordLink", { round: r.round })}
                      </a>
                    ) : null}
                  </td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </details>
  );
}
