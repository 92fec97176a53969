// The section shown, from the location's hash (lib/route.ts), followed through `hashchange`.
// Moving to another section puts the focus on its main heading, as a page load would.
import { useEffect, useRef, useState } from "react";
import { nextRoute, routeOf, type Route } from "../lib/route";

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
