// The page's sections as hash routes (`#/assistant`, `#/data`, `#/admin`; anything else is the compute
// market), so a reload or a shared link opens the same section and the server serves one file.
// Plain anchors (`#main`, `#tasks`) are not routes: they keep the section shown.

export const ROUTES = ["market", "assistant", "data", "admin"] as const;
export type Route = (typeof ROUTES)[number];

/// The route a hash names, or `null` when the hash is an in-page anchor rather than a route.
export function routeOf(hash: string): Route | null {
  if (hash === "" || hash === "#") return "market";
  if (!hash.startsWith("#/")) return null;
  const name = hash.slice(2).split(/[/?]/)[0];
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : "market";
}

/// The next route when the hash changes to `hash` while `current` is shown.
export function nextRoute(hash: string, current: Route): Route {
  return routeOf(hash) ?? current;
}

export function routeHref(route: Route): string {
  return route === "market" ? "#/" : `#/${route}`;
}
