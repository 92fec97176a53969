// The section shown, from the location's hash (lib/route.ts), followed through `hashchange`.
// Moving to another section puts the focus on its main heading, as a page load would.
import { useEffect, useRef, useState } from "react";
import { flViewOf, nextRoute, routeOf, type FlView, type Route } from "../lib/route";

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => routeOf(window.location.hash) ?? "market");
  useEffect(() => {
    const onHash = () => setRoute((current) => nextRoute(window.location.hash, current));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const shown = useRef(route);
  useEffect(() => {
    if (shown.current === route) return;
    shown.current = route;
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [route]);
  return route;
}

/// The federated-learning page shown (lib/route.ts `flViewOf`), followed through `hashchange`;
/// moving between its pages puts the focus on the new page's heading.
export function useFlView(): FlView {
  const [view, setView] = useState<FlView>(() => flViewOf(window.location.hash));
  useEffect(() => {
    const onHash = () => {
      if (window.location.hash.startsWith("#/fl")) setView(flViewOf(window.location.hash));
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
