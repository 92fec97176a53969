// What the board's pages read from the node: the mall's tasks (filters, paging), one task with its
// claims and timeline, an account's tasks and points, and a task's description from the content
// store (read once per CID). Each re-reads when the live signal's `version` moves; a task page only
// when the pushed task is its own (or on a reconnect).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { boardApi, type AccountBoard, type BoardTask, type TaskDetail, type TaskFilter } from "../lib/board";
import { errorText } from "../lib/wallet";
import type { BoardLive } from "./useBoard";

/// Requests numbered as they start, so an answer that comes back after a newer request's (a busy
/// node can answer out of order) is dropped instead of putting an older view on the page.
export function useLatest() {
  const n = useRef(0);
  return useMemo(() => ({ start: () => ++n.current, is: (mine: number) => mine === n.current }), []);
}

export function useBoardTasks(filter: TaskFilter, live: BoardLive, enabled: boolean) {
  const [tasks, setTasks] = useState<BoardTask[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(filter);
  const latest = useLatest();
  const reload = useCallback(async () => {
    const mine = latest.start();
    try {
      const tasks = await boardApi.tasks(JSON.parse(key) as TaskFilter);
      if (!latest.is(mine)) return;
      setTasks(tasks);
      setError(null);
    } catch (e) {
      if (latest.is(mine)) setError(errorText(e));
    }
  }, [key, latest]);
  useEffect(() => {
    if (enabled) void reload();
  }, [reload, live.version, enabled]);
  return { tasks, error, reload };
}

export function useBoardTask(id: number, live: BoardLive, enabled: boolean) {
  const [detail, setDetail] = useState<TaskDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatest();
  const reload = useCallback(async () => {
    const mine = latest.start();
    try {
      const d = await boardApi.task(id);
      if (!latest.is(mine)) return;
      setDetail(d);
      setError(null);
    } catch (e) {
      if (latest.is(mine)) setError(errorText(e));
    }
  }, [id, latest]);
  const loaded = useRef<number | null>(null);
  useEffect(() => {
    if (!enabled) return;
    // Another task's or a community's event is not this page's business once it has read its own.
    const other = live.last === "community" || (live.last === "task" && live.lastTask?.id !== id);
    if (other && loaded.current === id) return;
    if (loaded.current !== id) setDetail(null);
    loaded.current = id;
    void reload();
    // Only a new signal (version) or another task (id, through reload) re-reads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled, reload, live.version]);
  return { detail, error, reload };
}

export function useAccountBoard(address: string | null, live: BoardLive, enabled: boolean) {
  const [account, setAccount] = useState<AccountBoard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatest();
  const reload = useCallback(async () => {
    if (!address) return;
    const mine = latest.start();
    try {
      const a = await boardApi.account(address);
      if (!latest.is(mine)) return;
      setAccount(a);
      setError(null);
    } catch (e) {
      if (latest.is(mine)) setError(errorText(e));
    }
  }, [address, latest]);
  useEffect(() => setAccount(null), [address]);
  useEffect(() => {
    if (enabled) void reload();
  }, [enabled, reload, live.version]);
  return { account, error, reload };
}

const specs = new Map<string, Promise<string>>();

/// A description read once per CID (a failure is forgotten, so the next read tries again). A spec
/// that is a web address is not fetched: the page links to it.
export function specTextOf(spec: string): Promise<string> {
  let p = specs.get(spec);
  if (!p) {
    p = boardApi.specText(spec).catch((e: unknown) => {
      specs.delete(spec);
      throw e;
    });
    specs.set(spec, p);
  }
  return p;
}

export const isWebSpec = (spec: string) => /^https?:\/\//i.test(spec);

export function useSpecText(spec: string | null) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(null);
    setError(null);
    if (!spec || isWebSpec(spec)) return;
    let cancelled = false;
    specTextOf(spec).then(
      (t) => !cancelled && setText(t),
      (e) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [spec]);
  return { text, error };
}
