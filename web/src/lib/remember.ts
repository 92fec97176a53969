// What the page remembers between visits (localStorage; nothing when storage is unavailable), and
// how a remembered wallet choice is restored.
import type { DevAccount } from "./api";

export const WALLET_KEY = "agora.wallet";

export function remember(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage unavailable: nothing is remembered
  }
}

export function recall(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/// The remembered value for a dev account.
export function devChoice(account: Pick<DevAccount, "index">): string {
  return `dev:${account.index}`;
}

export type Restore =
  /// Not decidable yet (the dev accounts are still loading).
  | { do: "wait" }
  /// Nothing to restore.
  | { do: "nothing" }
  /// The remembered choice no longer applies (a dev account off the embedded chain): forget it.
  | { do: "forget" }
  | { do: "injected" }
  | { do: "dev"; account: DevAccount };

/// What to do with the remembered wallet choice `saved`, once the network is known.
export function restoreWallet(
  saved: string | null,
  embeddedChain: boolean,
  devAccounts: readonly DevAccount[] | null,
): Restore {
  if (saved === "injected") return { do: "injected" };
  if (!saved?.startsWith("dev:")) return { do: "nothing" };
  if (!embeddedChain) return { do: "forget" };
  if (!devAccounts) return { do: "wait" };
  const account = devAccounts.find((a) => devChoice(a) === saved);
  return account ? { do: "dev", account } : { do: "nothing" };
}
