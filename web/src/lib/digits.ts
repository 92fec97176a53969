// The AI-inference service reads an 8×8 digit as `{"pixels":[64 numbers 0..16]}`, the format of the
// digits dataset its model was trained on (row by row, 0 = blank, 16 = full ink).

export const GRID = 8;
export const CELLS = GRID * GRID;
export const MAX_INK = 16;
/// Ink a brush stroke leaves on the cells beside the one painted, like the blur of the dataset's
/// downsampled scans.
export const EDGE_INK = 6;

export function emptyGrid(): number[] {
  return new Array<number>(CELLS).fill(0);
}

/// The grid after a brush stroke at `index`: full ink there, at least `EDGE_INK` on its four
/// neighbours. With `erase`, the cell is cleared and neighbours are left alone.
export function paint(grid: readonly number[], index: number, erase = false): number[] {
  if (!Number.isInteger(index) || index < 0 || index >= CELLS) return [...grid];
  const next = [...grid];
  if (erase) {
    next[index] = 0;
    return next;
  }
  next[index] = MAX_INK;
  const row = Math.floor(index / GRID);
  const col = index % GRID;
  const neighbours = [
    [row - 1, col],
    [row + 1, col],
    [row, col - 1],
    [row, col + 1],
  ];
  for (const [r, c] of neighbours) {
    if (r >= 0 && r < GRID && c >= 0 && c < GRID) next[r * GRID + c] = Math.max(next[r * GRID + c], EDGE_INK);
  }
  return next;
}

/// The task input for a grid. Refuses a grid that is not 64 integers in 0..16 or has no ink.
export function encodeDigitInput(grid: readonly number[]): string {
  if (grid.length !== CELLS) throw new Error(`a digit has ${CELLS} pixels, not ${grid.length}`);
  for (const v of grid) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_INK) throw new Error(`pixel ${v} is not an integer in 0..${MAX_INK}`);
  }
  if (grid.every((v) => v === 0)) throw new Error("the grid is empty: draw a digit first");
  return JSON.stringify({ pixels: grid });
}

/// A digit result `{"digit": 7, "probabilities": [...]}`, or `null` when `text` is not one.
export function parseDigitResult(text: string): { digit: number; confidence: number | null } | null {
  try {
    const v = JSON.parse(text) as { digit?: unknown; probabilities?: unknown };
    if (typeof v.digit !== "number" || !Number.isInteger(v.digit)) return null;
    const p = Array.isArray(v.probabilities) ? v.probabilities[v.digit] : undefined;
    return { digit: v.digit, confidence: typeof p === "number" ? p : null };
  } catch {
    return null;
  }
}
