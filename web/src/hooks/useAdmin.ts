// The admin page's data: users, channels and the background jobs from `/api/admin/*`, and their
// actions. The node decides who is an admin; a 403 means the signed-in wallet is not one. It also
// reads the symbol and decimals of the channels' tokens (amounts are shown in them), and keeps each
// channel's last "settle now" outcome — the node's reason when it could not close it.
import { useCallback, useEffect, useState } from "react";
import type { Hex } from "viem";
import type { NetworkInfo } from "../lib/api";
import { ETH_TOKEN, marketTokenAbi } from "../lib/abi";
import { adminApi, isNotAdmin, needsSignIn, settleOutcome, type AdminChannel, type AdminJob, type AdminUser, type SettleOutcome } from "../lib/assistant";
import type { Tokens } from "../lib/services";
import { errorText, publicClientFor } from "../lib/wallet";

export type AdminAccess = "loading" | "ok" | "forbidden" | "signedOut" | "error";

export function useAdmin(signedIn: boolean, address: string | null, net: NetworkInfo | null, known: Tokens) {
  const [access, setAccess] = useState<AdminAccess>("loading");
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [channels, setChannels] = useState<AdminChannel[]>([]);
  const [jobs, setJobs] = useState<AdminJob[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [settled, setSettled] = useState<Record<string, SettleOutcome>>({});
  const [read, setRead] = useState<Tokens>({});

  const fail = useCallback((e: unknown) => {
    if (isNotAdmin(e)) setAccess("forbidden");
    else if (needsSignIn(e)) setAccess("signedOut");
    else {
      setError(errorText(e));
      setAccess((a) => (a === "loading" ? "error" : a));
    }
  }, []);

  const load = useCallback(async () => {
    if (!signedIn) {
      setAccess("signedOut");
      return;
    }
    setError(null);
    try {
      const [u, c, j] = await Promise.all([adminApi.users(), adminApi.channels(), adminApi.jobs()]);
      setUsers(u);
      setChannels(c);
      setJobs(j);
      setAccess("ok");
    } catch (e) {
      fail(e);
    }
  }, [signedIn, fail]);

  useEffect(() => {
    setAccess("loading");
    void load();
  }, [load, address]);

  /// Runs one action (its `key` marks the button busy), then re-reads everything.
  const act = useCallback(
    async (key: string, action: () => Promise<unknown>) => {
      setBusy(key);
      setError(null);
      try {
        await action();
        await load();
      } catch (e) {
        fail(e);
      } finally {
        setBusy(null);
      }
    },
    [load, fail],
  );

  // The channels' tokens the page does not know yet, read once each from their contracts.
  useEffect(() => {
    if (!net) return;
    const client = publicClientFor(net);
    const wanted = new Set(channels.map((c) => c.token?.toLowerCase()).filter((a): a is string => !!a && a !== ETH_TOKEN));
    for (const addr of wanted) {
      if (known[addr] || read[addr]) continue;
      Promise.all([
        client.readContract({ address: addr as Hex, abi: marketTokenAbi, functionName: "symbol" }),
        client.readContract({ address: addr as Hex, abi: marketTokenAbi, functionName: "decimals" }),
      ]).then(
        ([symbol, decimals]) => setRead((prev) => ({ ...prev, [addr]: { symbol, decimals } })),
        () => undefined, // its amounts stay in the smallest unit, which the page says
      );
    }
    // `read` is read only to skip known ones
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [net, channels, known]);

  /// Closes a channel now; its outcome (or the node's reason) is kept beside it.
  const settle = useCallback(
    async (id: string) => {
      const key = id.toLowerCase();
      setBusy(`settle:${id}`);
      setSettled((prev) => {
        const next = { ...prev };
        delete next[key];
        return next;
      });
      try {
        const outcome = settleOutcome(id, await adminApi.settle(id));
        setSettled((prev) => ({ ...prev, [key]: outcome }));
        await load();
      } catch (e) {
        if (isNotAdmin(e) || needsSignIn(e)) fail(e);
        else setSettled((prev) => ({ ...prev, [key]: { kind: "failed", message: errorText(e) } }));
      } finally {
        setBusy(null);
      }
    },
    [load, fail],
  );

  return {
    access,
    users,
    channels,
    jobs,
    error,
    busy,
    reload: load,
    setUserDisabled: (address: string, disabled: boolean) =>
      act(`user:${address}`, () => (disabled ? adminApi.disableUser(address) : adminApi.enableUser(address))),
    settle,
    /// Each channel's last "settle now" outcome, by lower-case id.
    settled,
    tokens: { ...read, ...known } as Tokens,
    job: (name: string, action: "run" | "pause" | "resume") => act(`job:${name}:${action}`, () => adminApi.jobAction(name, action)),
  };
}
