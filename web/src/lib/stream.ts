// The page's one live connection: `/api/events` (server-sent events), reopened with growing
// delays after an error.
import type { Service, Task } from "./api";

export type StreamState = "connecting" | "live" | "reconnecting";

/// The event stream's URL: only this user's tasks when a wallet is connected.
export function streamUrl(address: string | null): string {
  return address ? `/api/events?user=${address.toLowerCase()}` : "/api/events";
}

/// Milliseconds to wait before reopening after the `attempt`-th error in a row (from 0): 0.5 s,
/// doubling, at most 10 s.
export function reconnectDelay(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** attempt);
}

/// Follows the server-sent events at `url` until the returned function is called: `on` handles each
/// named event's data; `hooks.onOpen` runs on every (re)connection (what came while the stream was
/// closed is read again there); `hooks.onState` hears connecting → live, and reconnecting after an
/// error until it opens again, the reopenings spaced by `reconnectDelay`.
export function followEvents(
  url: string,
  on: Record<string, (data: string) => void>,
  hooks: { onOpen?(): void; onState(state: StreamState): void },
  Source: typeof EventSource = EventSource,
): () => void {
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let stopped = false;
  const open = () => {
    if (stopped) return;
    hooks.onState(attempt === 0 ? "connecting" : "reconnecting");
    const es = new Source(url);
    source = es;
    es.addEventListener("open", () => {
      attempt = 0;
      hooks.onState("live");
      hooks.onOpen?.();
    });
    for (const [name, handle] of Object.entries(on)) {
      es.addEventListener(name, (ev) => handle((ev as MessageEvent<string>).data));
    }
    es.addEventListener("error", () => {
      es.close();
      if (stopped) return;
      hooks.onState("reconnecting");
      timer = setTimeout(open, reconnectDelay(attempt));
      attempt += 1;
    });
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    source?.close();
  };
}

/// Parses one `event: service` payload; `null` for anything that is not a service.
export function parseServiceEvent(data: string): Service | null {
  try {
    const v = JSON.parse(data) as Partial<Service> | null;
    if (v && typeof v.id === "number") return v as Service;
  } catch {
    // not JSON: ignored
  }
  return null;
}

/// A task view is worth announcing when its status is new to the page.
export function statusChanged(held: Task | undefined, incoming: Task): boolean {
  return !held || held.status !== incoming.status;
}
