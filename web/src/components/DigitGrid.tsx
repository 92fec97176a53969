// An 8×8 grid to draw a digit on, with a mouse, a finger or the keyboard (arrows move, Space or
// Enter paints or clears the cell).
import { useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import { CELLS, GRID, MAX_INK, paint } from "../lib/digits";
import { useI18n } from "../i18n-context";

interface Props {
  value: number[];
  onChange(next: number[]): void;
  labelId: string;
}

export function DigitGrid({ value, onChange, labelId }: Props) {
  const { t } = useI18n();
  const [focus, setFocus] = useState(0);
  const [erasing, setErasing] = useState(false);
  const drawing = useRef<null | "paint" | "erase">(null);
  const cells = useRef<(HTMLButtonElement | null)[]>([]);
  const latest = useRef(value);
  latest.current = value;

  const apply = (index: number, mode: "paint" | "erase") => {
    const next = paint(latest.current, index, mode === "erase");
    latest.current = next;
    onChange(next);
  };

  const cellAt = (e: PointerEvent): number | null => {
    const el = document.elementFromPoint(e.clientX, e.clientY);
    const idx = el instanceof HTMLElement ? el.dataset.cell : undefined;
    return idx === undefined ? null : Number(idx);
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    const idx = cellAt(e);
    if (idx === null) return;
    e.preventDefault();
    drawing.current = erasing || e.button === 2 ? "erase" : "paint";
    apply(idx, drawing.current);
    setFocus(idx);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (!drawing.current) return;
    const idx = cellAt(e);
    if (idx !== null) apply(idx, drawing.current);
  };
  const stop = () => {
    drawing.current = null;
  };

  const move = (to: number) => {
    setFocus(to);
    cells.current[to]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const row = Math.floor(index / GRID);
    const col = index % GRID;
    let to: number | null = null;
    if (e.key === "ArrowRight" && col < GRID - 1) to = index + 1;
    else if (e.key === "ArrowLeft" && col > 0) to = index - 1;
    else if (e.key === "ArrowDown" && row < GRID - 1) to = index + GRID;
    else if (e.key === "ArrowUp" && row > 0) to = index - GRID;
    else if (e.key === "Home") to = row * GRID;
    else if (e.key === "End") to = row * GRID + GRID - 1;
    else if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      apply(index, value[index] >= MAX_INK || erasing ? "erase" : "paint");
      return;
    }
    if (to !== null) {
      e.preventDefault();
      move(to);
    }
  };

  return (
    <div className="digit">
      <div
        className="digit-grid"
        role="group"
        aria-labelledby={labelId}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={stop}
        onPointerLeave={stop}
        onPointerCancel={stop}
        onContextMenu={(e) => e.preventDefault()}
        data-testid="digit-grid"
      >
        {Array.from({ length: CELLS }, (_, i) => {
          const v = value[i] ?? 0;
          return (
            <button
              key={i}
              type="button"
              ref={(el) => {
                cells.current[i] = el;
              }}
              data-cell={i}
              className="digit-cell"
              style={{ backgroundColor: `hsl(220 15% ${Math.round(100 - (v / MAX_INK) * 85)}%)` }}
              tabIndex={i === focus ? 0 : -1}
              aria-pressed={v > 0}
              aria-label={t("digit.cell", { row: Math.floor(i / GRID) + 1, col: (i % GRID) + 1, value: v })}
              onKeyDown={(e) => onKeyDown(e, i)}
              onFocus={() => setFocus(i)}
            />
          );
        })}
      </div>
      <div className="digit-tools">
        <button type="button" className="btn" aria-pressed={erasing} onClick={() => setErasing((x) => !x)}>
          {t("digit.eraser")}
        </button>
        <button type="button" className="btn" onClick={() => onChange(new Array<number>(CELLS).fill(0))}>
          {t("digit.clear")}
        </button>
      </div>
      <p className="hint">{t("digit.hint")}</p>
    </div>
  );
}
