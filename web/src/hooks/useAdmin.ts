// The admin page's data: users, channels and the background jobs from `/api/admin/*`, and their
// actions. The node decides who is an admin; a 403 means the signed-in wallet is not one.
import { useCallback, useEffect, useState } from "react";
import { adminApi, isNotAdmin, needsSignIn, type AdminChannel, type AdminJob, type AdminUser } from "../lib/assistant";
import { errorText } from "../lib/wallet";

export type AdminAccess = "loading" | "ok" | "forbidden" | "signedOut" | "error";

export function useAdmin(signedIn: boolean, address: string | null) {
  const [access, setAccess] = useState<AdminAccess>("loading");
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [channels, setChannels] = useState<AdminChannel[]>([]);
  const [jobs, setJobs] = useState<AdminJob[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

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
    settle: (id: string) => act(`settle:${id}`, () => adminApi.settle(id)),
    job: (name: string, action: "run" | "pause" | "resume") => act(`job:${name}:${action}`, () => adminApi.jobAction(name, action)),
  };
}
