// What the federated-learning pages read from the node: the task list (with its filters), one
// task with its rounds, logs and — once finished — my result, and an account's memberships,
// shares, claims and payments. Each re-reads when the market's logs bump `version`; a task in
// training also polls its rounds and logs every 2 s (the node's event stream does not carry them),
// asking only for the log lines after the last one held.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Hex } from "viem";
import { ApiError } from "../lib/api";
import { flApi, lastSeq, mergeLogs, type FlAccount, type FlLog, type FlResult, type FlRound, type FlTask, type TaskFilter } from "../lib/fl";
import { errorText } from "../lib/wallet";

export const POLL_MS = 2000;

export function useFlTasks(filter: TaskFilter, version: number, enabled: boolean) {
  const [tasks, setTasks] = useState<FlTask[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { state, mode, account } = filter;
  const reload = useCallback(async () => {
    try {
      setTasks(await flApi.tasks({ state, mode, account }));
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

export function useFlTask(id: number, account: Hex | null, version: number, enabled: boolean) {
  const [task, setTask] = useState<FlTask | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rounds, setRounds] = useState<FlRound[]>([]);
  const [logs, setLogs] = useState<FlLog[]>([]);
  const [result, setResult] = useState<FlResult | null>(null);
  const [resultError, setResultError] = useState<string | null>(null);
  const logsRef = useRef<FlLog[]>([]);

  useEffect(() => {
    setTask(null);
    setRounds([]);
    setLogs([]);
    logsRef.current = [];
    setResult(null);
  }, [id]);

  const reloadTask = useCallback(async () => {
    try {
      const t = await flApi.task(id);
      setTask(t);
      setError(null);
      return t;
    } catch (e) {
      setError(errorText(e));
      return null;
    }
  }, [id]);

  const reloadProgress = useCallback(async () => {
    const [r, l] = await Promise.allSettled([flApi.rounds(id), flApi.logs(id, lastSeq(logsRef.current))]);
    if (r.status === "fulfilled") setRounds(r.value);
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

  return { task, error, rounds, logs, result, resultError, reload: reloadTask };
}

export function useFlAccount(address: Hex | null, version: number, enabled: boolean, withdrawable: (taskId: number, account: Hex) => Promise<bigint | null>) {
  const [account, setAccount] = useState<FlAccount | null>(null);
  const [error, setError] = useState<string | null>(null);
  /// Withdrawable dividends per task read from the contract (when the API does not say).
  const [dividends, setDividends] = useState<Record<number, bigint>>({});

  const reload = useCallback(async () => {
    if (!address) return;
    try {
      const a = await flApi.account(address);
      setAccount(a);
      setError(null);
      const missing = a.shares.filter((s) => s.withdrawable === null);
      const read = await Promise.all(missing.map((s) => withdrawable(s.taskId, address)));
      setDividends(Object.fromEntries(missing.flatMap((s, i) => (read[i] === null ? [] : [[s.taskId, read[i]]]))));
    } catch (e) {
      setError(errorText(e));
    }
  }, [address, withdrawable]);

  useEffect(() => {
    setAccount(null);
  }, [address]);
  useEffect(() => {
    if (enabled) void reload();
  }, [enabled, reload, version]);

  return { account, error, dividends, reload };
}
