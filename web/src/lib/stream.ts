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
