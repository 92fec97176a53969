// The board or community page shown (lib/boardRoute.ts `boardViewOf`), followed through
// `hashchange`; moving between its pages puts the focus on the new page's heading.
import { useEffect, useRef, useState } from "react";
import { boardViewOf, isBoardHash, type BoardView } from "../lib/boardRoute";

export function useBoardView(): BoardView {
  const [view, setView] = useState<BoardView>(() => boardViewOf(window.location.hash));
  useEffect(() => {
    const onHash = () => {
      if (isBoardHash(window.location.hash)) setView(boardViewOf(window.location.hash));
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const key = JSON.stringify(view);
  const shown = useRef(key);
  useEffect(() => {
    if (shown.current === key) return;
    shown.current = key;
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [key]);
  return view;
}
