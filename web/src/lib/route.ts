// The page's sections as hash routes (`#/assistant`, `#/data`, `#/fl`, `#/me`, `#/admin`,
// `#/notifications`, an e-mail verification link's `#/verify-email?token=…`; anything else is the
// compute market), so a reload or a shared link opens the same section and the server
// serves one file. The federated-learning section has pages of its own (`#/fl/task/3`,
// `#/fl/predict/3`), read by `flViewOf`.
// Plain anchors (`#main`, `#tasks`) are not routes: they keep the section shown.

export const ROUTES = ["market", "assistant", "data", "fl", "me", "admin", "board", "communities", "community", "notifications", "verify-email"] as const;
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

/// A page of the federated-learning section: the task list, a task, or a model's predict page.
export type FlView = { page: "tasks" } | { page: "task"; id: number } | { page: "predict"; id: number | null };

/// The federated-learning page a hash names (`#/fl`, `#/fl/task/3`, `#/fl/predict/3`, `#/fl/predict`).
export function flViewOf(hash: string): FlView {
  const parts = hash.replace(/^#\/?/, "").split(/[?]/)[0].split("/");
  if (parts[0] !== "fl") return { page: "tasks" };
  const id = /^[1-9][0-9]{0,15}$/.test(parts[2] ?? "") ? Number(parts[2]) : null;
  if (parts[1] === "task" && id !== null) return { page: "task", id };
  if (parts[1] === "predict") return { page: "predict", id };
  return { page: "tasks" };
}

export function flHref(view: FlView): string {
  if (view.page === "task") return `#/fl/task/${view.id}`;
  if (view.page === "predict") return view.id === null ? "#/fl/predict" : `#/fl/predict/${view.id}`;
  return "#/fl";
}
