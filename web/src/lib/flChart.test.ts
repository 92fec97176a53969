import { describe, expect, it } from "vitest";
import type { FlReference, FlRound } from "./fl";
import { accuracyPath, CHART, colourOf, contributionBars, cumulativeShares, participantsOf, percentTicks, referencePath, roundDomain, scaleLinear } from "./flChart";

const A = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as const;
const B = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" as const;
const round = (n: number, accuracy: number | null, values: [string, number][]): FlRound => ({
  round: n,
  accuracy,
  loss: accuracy === null ? null : 1 - accuracy,
  aggregatedAt: null,
  recordCid: null,
  participants: values.map(([account, value]) => ({ account: account as `0x${string}`, value, loss: 0, samples: 1, refused: null })),
});

describe("scales", () => {
  it("map linearly, a flat domain to the middle", () => {
    const s = scaleLinear(0, 10, 100, 200);
    expect(s(0)).toBe(100);
    expect(s(5)).toBe(150);
    expect(s(10)).toBe(200);
    expect(scaleLinear(3, 3, 0, 10)(3)).toBe(5);
  });
  it("span the planned rounds, or the rounds seen when more", () => {
    expect(roundDomain([], 10)).toEqual([1, 10]);
    expect(roundDomain([round(1, 0.5, []), round(12, 0.8, [])], 10)).toEqual([1, 12]);
    expect(roundDomain([], null)).toEqual([1, 1]);
  });
});

describe("the accuracy curve", () => {
  it("puts round 1 at the left, the last planned round at the right, 100% at the top", () => {
    const { points, d } = accuracyPath([round(1, 0, []), round(10, 1, [])], 10);
    expect(points[0]).toMatchObject({ x: CHART.left, y: CHART.height - CHART.bottom });
    expect(points[1]).toMatchObject({ x: CHART.width - CHART.right, y: CHART.top });
    expect(d).toBe(`M${CHART.left.toFixed(1)},${(CHART.height - CHART.bottom).toFixed(1)} L${(CHART.width - CHART.right).toFixed(1)},${CHART.top.toFixed(1)}`);
  });
  it("clamps an accuracy outside 0..1 and draws nothing without rounds", () => {
    expect(accuracyPath([round(1, 1.4, [])], 2).points[0].y).toBe(CHART.top);
    expect(accuracyPath([], 5).d).toBe("");
    expect(accuracyPath([round(1, null, []), round(2, 0.5, [])], 2).points.map((p) => p.round)).toEqual([2]);
  });
  it("labels the y axis in percent", () => {
    expect(percentTicks().map((t) => t.label)).toEqual(["0%", "25%", "50%", "75%", "100%"]);
  });
});

describe("the contribution bars", () => {
  const rounds = [round(1, 0.7, [[A, 0.4], [B, 0.2]]), round(2, 0.8, [[B, 0.1], [A, -0.05]])];
  it("stack each round's positive contributions, the tallest round filling the plot", () => {
    const { segments, max } = contributionBars(rounds);
    expect(max).toBeCloseTo(0.6);
    const r1 = segments.filter((s) => s.round === 1);
    expect(r1.map((s) => s.account)).toEqual([A, B]);
    const plotH = CHART.height - CHART.top - CHART.bottom;
    expect(r1[0].height + r1[1].height).toBeCloseTo(plotH);
    expect(r1[1].y).toBeCloseTo(CHART.top);
    expect(r1[0].y + r1[0].height).toBeCloseTo(CHART.height - CHART.bottom);
    // A negative contribution draws no segment.
    expect(segments.filter((s) => s.round === 2).map((s) => s.account)).toEqual([B]);
  });
  it("keep one colour per participant in first-seen order", () => {
    expect(participantsOf(rounds)).toEqual([A, B]);
    expect(colourOf(0)).not.toBe(colourOf(1));
  });
  it("share the clipped cumulative contributions", () => {
    const shares = cumulativeShares(rounds);
    expect(shares.find((s) => s.account === A)?.share).toBeCloseTo(0.35 / 0.65);
    expect(shares.reduce((s, x) => s + x.share, 0)).toBeCloseTo(1);
    expect(cumulativeShares([round(1, 0.5, [[A, -1]])])).toEqual([{ account: A, share: 0 }]);
  });
});

describe("the centralised reference", () => {
  const reference = (accuracy: (number | null)[], epochs: number, epochsPerRound = 1): FlReference => ({
    epochs,
    epochsPerRound,
    samples: 1000,
    accuracy,
    seconds: 1,
    complete: accuracy.length >= epochs,
  });
  it("puts epoch k × local epochs above round k, on the federated curve's scale", () => {
    const rounds = [round(1, 0.5, []), round(2, 0.6, [])];
    const { points } = referencePath(reference([0.7, 0.8, 0.9, 1], 4, 2), rounds, 2);
    const fed = accuracyPath(rounds, 2).points;
    // Epochs 1 and 3 (round ½ and 1½) — epoch 1 lies left of round 1 and is not drawn.
    expect(points.map((p) => p.epoch)).toEqual([2, 3, 4]);
    expect(points[0].x).toBe(fed[0].x);
    expect(points[2].x).toBe(fed[1].x);
    expect(points[2].y).toBe(CHART.top);
    expect(points[1].x).toBeCloseTo((fed[0].x + fed[1].x) / 2);
  });
  it("draws nothing without a reference, and skips epochs whose accuracy is unknown", () => {
    expect(referencePath(null, [], 3)).toEqual({ points: [], d: "" });
    const { points, d } = referencePath(reference([0.5, null, 0.8], 3), [], 3);
    expect(points.map((p) => p.epoch)).toEqual([1, 3]);
    expect(d.startsWith(`M${CHART.left.toFixed(1)},`)).toBe(true);
    expect(d.split(" ")).toHaveLength(2);
  });
});
