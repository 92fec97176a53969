import { describe, expect, it } from "vitest";
import { CELLS, EDGE_INK, emptyGrid, encodeDigitInput, MAX_INK, paint, parseDigitResult } from "./digits";

describe("digit grid", () => {
  it("paints full ink with a softer edge", () => {
    const g = paint(emptyGrid(), 9); // row 1, col 1
    expect(g[9]).toBe(MAX_INK);
    for (const n of [1, 8, 10, 17]) expect(g[n]).toBe(EDGE_INK);
    expect(g[0]).toBe(0);
    expect(g.filter((v) => v > 0)).toHaveLength(5);
  });
  it("does not wrap the brush around the grid's edge", () => {
    const g = paint(emptyGrid(), 7); // top right corner
    expect(g[8]).toBe(0); // first cell of the next row
    expect(g[6]).toBe(EDGE_INK);
    expect(g[15]).toBe(EDGE_INK);
  });
  it("never lowers ink already there, and erases one cell", () => {
    let g = paint(emptyGrid(), 9);
    g = paint(g, 10);
    expect(g[9]).toBe(MAX_INK);
    g = paint(g, 9, true);
    expect(g[9]).toBe(0);
    expect(g[10]).toBe(MAX_INK);
  });
  it("encodes the model's input format", () => {
    const g = paint(emptyGrid(), 27);
    const input = JSON.parse(encodeDigitInput(g));
    expect(Object.keys(input)).toEqual(["pixels"]);
    expect(input.pixels).toHaveLength(CELLS);
    expect(input.pixels[27]).toBe(16);
  });
  it("refuses empty and malformed grids", () => {
    expect(() => encodeDigitInput(emptyGrid())).toThrow(/empty/);
    expect(() => encodeDigitInput([1, 2, 3])).toThrow(/64/);
    const bad = emptyGrid();
    bad[0] = 17;
    expect(() => encodeDigitInput(bad)).toThrow(/0\.\.16/);
    bad[0] = 1.5;
    expect(() => encodeDigitInput(bad)).toThrow();
  });
  it("reads a digit result", () => {
    const probs = [0, 0, 0, 0, 0, 0, 0, 0.9, 0.1, 0];
    expect(parseDigitResult(JSON.stringify({ digit: 7, probabilities: probs }))).toEqual({ digit: 7, confidence: 0.9 });
    expect(parseDigitResult('{"digit":3}')).toEqual({ digit: 3, confidence: null });
    expect(parseDigitResult("to be: 2")).toBeNull();
    expect(parseDigitResult('{"words":4}')).toBeNull();
  });
});
