// The task page's two charts drawn as inline SVG from numbers, no chart library: the global
// accuracy per round as a line, and each round's contributions as stacked bars (one colour per
// participant, negative contributions clipped to zero as the payouts clip them). Only geometry
// here; the component draws it.
import type { FlReference, FlRound } from "./fl";

export interface Box {
  width: number;
  height: number;
  /// Space kept for the axes' labels.
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const CHART: Box = { width: 480, height: 220, left: 40, right: 12, top: 12, bottom: 28 };

/// A linear map from `[d0, d1]` to `[r0, r1]` (a flat domain maps to the middle of the range).
export function scaleLinear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) * (r1 - r0)) / (d1 - d0);
}

/// Round numbers on x: 1 … last round (at least 1).
export function roundDomain(rounds: readonly FlRound[], planned: number | null): [number, number] {
  const last = Math.max(1, planned ?? 0, ...rounds.map((r) => r.round));
  return [rounds.length && rounds[0].round === 0 ? 0 : 1, last];
}

/// The accuracy line: points in the box (accuracy 0..1 on y, up is better) and its SVG path.
export function accuracyPath(rounds: readonly FlRound[], planned: number | null, box: Box = CHART): { points: { x: number; y: number; round: number; accuracy: number }[]; d: string } {
  const [r0, r1] = roundDomain(rounds, planned);
  const x = scaleLinear(r0, r1, box.left, box.width - box.right);
  const y = scaleLinear(0, 1, box.height - box.bottom, box.top);
  // A round whose accuracy was not measured draws no point.
  const points = rounds.flatMap((r) => (r.accuracy === null ? [] : [{ x: x(r.round), y: y(Math.min(1, Math.max(0, r.accuracy))), round: r.round, accuracy: r.accuracy }]));
  const d = points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
  return { points, d };
}

/// The centralised reference on the same axes: its accuracy after epoch `e` drawn at round
/// `e / epochsPerRound` (as many passes over the data as the federated run had by then), so the
/// two lines compare at equal training. Epochs before round 1's position are left out.
export function referencePath(reference: FlReference | null, rounds: readonly FlRound[], planned: number | null, box: Box = CHART): { points: { x: number; y: number; epoch: number; accuracy: number }[]; d: string } {
  if (!reference) return { points: [], d: "" };
  const [r0, r1] = roundDomain(rounds, planned);
  const x = scaleLinear(r0, r1, box.left, box.width - box.right);
  const y = scaleLinear(0, 1, box.height - box.bottom, box.top);
  const per = Math.max(1, reference.epochsPerRound);
  const points = reference.accuracy.flatMap((a, i) => {
    const at = (i + 1) / per;
    return a === null || at < r0 ? [] : [{ x: x(at), y: y(Math.min(1, Math.max(0, a))), epoch: i + 1, accuracy: a }];
  });
  const d = points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
  return { points, d };
}

/// Ticks on y for a 0..1 scale (as percentages).
export function percentTicks(box: Box = CHART): { y: number; label: string }[] {
  const y = scaleLinear(0, 1, box.height - box.bottom, box.top);
  return [0, 0.25, 0.5, 0.75, 1].map((v) => ({ y: y(v), label: `${Math.round(v * 100)}%` }));
}

export interface BarSegment {
  account: string;
  round: number;
  value: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/// Every participant seen, in first-seen order (their colours stay put across rounds).
export function participantsOf(rounds: readonly FlRound[]): string[] {
  const seen: string[] = [];
  for (const r of rounds) for (const p of r.participants) if (!seen.includes(p.account)) seen.push(p.account);
  return seen;
}

/// Stacked bars: one bar per round, one segment per participant with a positive contribution,
/// heights on a scale up to the largest round total.
export function contributionBars(rounds: readonly FlRound[], box: Box = CHART): { segments: BarSegment[]; max: number } {
  const totals = rounds.map((r) => r.participants.reduce((s, p) => s + Math.max(0, p.value), 0));
  const max = Math.max(0, ...totals);
  const plotW = box.width - box.left - box.right;
  const slot = rounds.length ? plotW / rounds.length : plotW;
  const width = Math.max(2, slot * 0.7);
  const h = scaleLinear(0, max || 1, 0, box.height - box.top - box.bottom);
  const order = participantsOf(rounds);
  const segments: BarSegment[] = [];
  rounds.forEach((r, i) => {
    let base = box.height - box.bottom;
    const x = box.left + i * slot + (slot - width) / 2;
    const sorted = [...r.participants].sort((a, b) => order.indexOf(a.account) - order.indexOf(b.account));
    for (const p of sorted) {
      const v = Math.max(0, p.value);
      if (v <= 0) continue;
      const height = h(v);
      base -= height;
      segments.push({ account: p.account, round: r.round, value: p.value, x, y: base, width, height });
    }
  });
  return { segments, max };
}

/// A colour per participant index: hues spread around the wheel, readable on white.
export function colourOf(index: number): string {
  return `hsl(${(index * 137.508) % 360} 65% 45%)`;
}

/// Each participant's cumulative contribution over the rounds, clipped at zero, as fractions of
/// the whole (what the payouts divide by; display only — the node computes the money).
export function cumulativeShares(rounds: readonly FlRound[]): { account: string; share: number }[] {
  const sum = new Map<string, number>();
  for (const r of rounds) for (const p of r.participants) sum.set(p.account, (sum.get(p.account) ?? 0) + p.value);
  const clipped = [...sum.entries()].map(([account, v]) => ({ account, v: Math.max(0, v) }));
  const total = clipped.reduce((s, x) => s + x.v, 0);
  return clipped.map(({ account, v }) => ({ account, share: total > 0 ? v / total : 0 }));
}
