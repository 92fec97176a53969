// What the federated-learning pages read from the node: the task list (with its filters), one
// task with its rounds, logs and — once finished — my result, and an account's memberships,
// shares, claims and payments with the tasks they name (for their tokens). Each task's spec is read
// once from the content store (its CID is on chain) for its name, data set and rounds. Each re-reads when the market's logs bump `version`; a task in
// training also polls its rounds and logs every 2 s (the node's event stream does not carry them),
// asking only for the log lines after the last one held, and so does a task whose centralised
// reference is still training (it starts after the last round and runs while payouts are posted).
import { useCallback, useEffect, useRef, useState } from "react";
import type { Hex } from "viem";
import { ApiError } from "../lib/api";
import { accountTaskIds, flApi, lastSeq, mergeLogs, type FlAccount, type FlLog, type FlReference, type FlResult, type FlRound, type FlTask, type TaskFilter } from "../lib/fl";
import type { Obj } from "../lib/flJson";
import { errorText } from "../lib/wallet";

export const POLL_MS = 2000;

const specs = new Map<string, Promise<Obj | null>>();

/// A spec read once per CID (a failure is forgotten, so the next read tries again).
function specOf(cid: string): Promise<Obj | null> {
  if (!cid) return Promise.resolve(null);
  let p = specs.get(cid);
  if (!p) {
    p = flApi.specInfo(cid).catch(() => {
      specs.delete(cid);
      return null;
    });
    specs.set(cid, p);
  }
  return p;
}

/// The tasks with their specs.
export async function withSpecs(tasks: FlTask[]): Promise<FlTask[]> {
  const infos = await Promise.all(tasks.map((t) => specOf(t.spec)));
  return tasks.map((t, i) => ({ ...t, specInfo: infos[i] }));
}

export function useFlTasks(filter: TaskFilter, version: number, enabled: boolean) {
  const [tasks, setTasks] = useState<FlTask[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { state, mode, account } = filter;
  const reload = useCallback(async () => {
    try {
      setTasks(await withSpecs(await flApi.tasks({ state, mode, account })));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [state, mode, account]);
  useEffect(() => {
    if (enabled) void reload();
  }, [reload, version, enabled]);
  return { tasks, error, reload };
}

/// Whether the task's rounds and logs are still moving.
export const isLive = (t: FlTask | null) => t?.state === "Training";

/// How long after the last round a page waits for the reference's first epoch.
export const REFERENCE_WAIT_S = 120;

/// Whether the centralised reference may still move: started and not complete, or not started
/// yet while the last round is recent (a task from before references never gets one).
export function referencePending(t: FlTask | null, rounds: readonly FlRound[], reference: FlReference | null, nowS: number): boolean {
  if (!t || t.state === "Training" || t.state === "Open") return false;
  if (reference) return !reference.complete;
  const last = rounds[rounds.length - 1]?.aggregatedAt;
  return t.state === "Finished" && typeof last === "number" && nowS - last < REFERENCE_WAIT_S;
}

/// One task per mount: the caller keys its component by `id` (FlSection does), so a new task starts
/// from empty state and an answer still in flight for the previous one lands nowhere.
export function useFlTask(id: number, account: Hex | null, version: number, enabled: boolean) {
  const [task, setTask] = useState<FlTask | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rounds, setRounds] = useState<FlRound[]>([]);
  const [logs, setLogs] = useState<FlLog[]>([]);
  const [reference, setReference] = useState<FlReference | null>(null);
  const [result, setResult] = useState<FlResult | null>(null);
  const [resultError, setResultError] = useState<string | null>(null);
  const logsRef = useRef<FlLog[]>([]);

  const reloadTask = useCallback(async () => {
    try {
      const [t] = await withSpecs([await flApi.task(id)]);
      setTask(t);
      setError(null);
      return t;
    } catch (e) {
      setError(errorText(e));
      return null;
    }
  }, [id]);

  const reloadProgress = useCallback(async () => {
    const [r, l, c] = await Promise.allSettled([flApi.rounds(id), flApi.logs(id, lastSeq(logsRef.current)), flApi.reference(id)]);
    if (r.status === "fulfilled") setRounds(r.value);
    if (c.status === "fulfilled") setReference(c.value);
    if (l.status === "fulfilled" && l.value.length) {
      logsRef.current = mergeLogs(logsRef.current, l.value);
      setLogs(logsRef.current);
    }
  }, [id]);

  useEffect(() => {
    if (!enabled) return;
    void reloadTask();
    void reloadProgress();
  }, [enabled, reloadTask, reloadProgress, version]);

  // While training: rounds, logs and the task (its round, its end) every 2 s.
  const live = isLive(task);
  useEffect(() => {
    if (!enabled || !live) return;
    const timer = setInterval(() => {
      void reloadProgress();
      void reloadTask();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [enabled, live, reloadProgress, reloadTask]);
  // The reference trains after the last round: its epochs (and the log) every 2 s until complete.
  const pending = referencePending(task, rounds, reference, Math.floor(Date.now() / 1000));
  useEffect(() => {
    if (!enabled || !pending) return;
    const timer = setInterval(() => void reloadProgress(), POLL_MS);
    return () => clearInterval(timer);
  }, [enabled, pending, reloadProgress]);
  // Training just ended: the last round and lines may have landed after the last poll.
  const wasLive = useRef(false);
  useEffect(() => {
    if (wasLive.current && !live && enabled) void reloadProgress();
    wasLive.current = live;
  }, [live, enabled, reloadProgress]);

  // My result, once the task is finished.
  const finished = task?.state === "Finished";
  useEffect(() => {
    if (!enabled || !finished || !account) {
      setResult(null);
      return;
    }
    let cancelled = false;
    flApi.result(id, account).then(
      (r) => {
        if (cancelled) return;
        setResult(r);
        setResultError(null);
      },
      (e) => {
        if (cancelled) return;
        setResult(null);
        // 404: this account has no result in this task (it did not train).
        setResultError(e instanceof ApiError && e.status === 404 ? null : errorText(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [enabled, finished, account, id, version]);

  return { task, error, rounds, logs, reference, result, resultError, reload: reloadTask };
}

export function useFlAccount(address: Hex | null, version: number, enabled: boolean, withdrawable: (taskId: number, account: Hex) => Promise<bigint | null>) {
  const [account, setAccount] = useState<FlAccount | null>(null);
  const [error, setError] = useState<string | null>(null);
  /// The tasks the records name, by id (their tokens, names and states).
  const [tasks, setTasks] = useState<Record<number, FlTask>>({});
  /// Withdrawable dividends per task, read from the contract (the API lists what was withdrawn).
  const [dividends, setDividends] = useState<Record<number, bigint>>({});

  const reload = useCallback(async () => {
    if (!address) return;
    try {
      const a = await flApi.account(address);
      setAccount(a);
      setError(null);
      const ids = accountTaskIds(a);
      const read = await Promise.allSettled(ids.map((id) => flApi.task(id)));
      const found = await withSpecs(read.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])));
      setTasks(Object.fromEntries(found.map((t) => [t.id, t])));
      const owed = await Promise.all(a.shares.map((s) => withdrawable(s.taskId, address)));
      setDividends(Object.fromEntries(a.shares.flatMap((s, i) => (owed[i] === null ? [] : [[s.taskId, owed[i]]]))));
    } catch (e) {
      setError(errorText(e));
    }
  }, [address, withdrawable]);

  useEffect(() => {
    setAccount(null);
    setTasks({});
    setDividends({});
  }, [address]);
  useEffect(() => {
    if (enabled) void reload();
  }, [enabled, reload, version]);

  return { account, error, tasks, dividends, reload };
}
