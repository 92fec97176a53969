// The user's tasks, kept live: the list from `/api/me/tasks` when signed in, then every task view
// the event stream pushes (through the reducer that ignores stale views), service changes handed
// to the market, and a catch-up after every (re)connect or `resync`. Status changes are announced
// to screen readers. Nothing is polled.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { api, ApiError, type Service, type Task } from "../lib/api";
import { statusKey } from "../lib/status";
import { followEvents, parseServiceEvent, statusChanged, streamUrl, type StreamState } from "../lib/stream";
import { emptyTasks, parseTaskEvent, sortedTasks, tasksReducer } from "../lib/tasks";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";

interface Options {
  /// The connected wallet's address, or null.
  address: string | null;
  signedIn: boolean;
  /// The node answered 401 for the user's tasks.
  onSessionExpired(): void;
  /// A service changed.
  onService(service: Service): void;
  /// The stream (re)opened: the services shown may be stale.
  onReconnected(): void;
  /// One of the user's tasks changed (balances may have too).
  onTaskChanged(): void;
}

export function useTaskStream({ address, signedIn, onSessionExpired, onService, onReconnected, onTaskChanged }: Options) {
  const { t } = useI18n();
  const [tasks, dispatch] = useReducer(tasksReducer, emptyTasks);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [stream, setStream] = useState<StreamState>("connecting");
  const [announcement, setAnnouncement] = useState("");
  const tasksRef = useRef(tasks);
  tasksRef.current = tasks;

  useEffect(() => {
    dispatch({ type: "reset", user: address });
  }, [address]);

  const loadMyTasks = useCallback(async () => {
    if (!address || !signedIn) return;
    setLoading(true);
    try {
      const list = await api.myTasks();
      dispatch({ type: "loaded", user: address, tasks: list });
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) onSessionExpired();
      else setError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, [address, signedIn, onSessionExpired]);

  useEffect(() => {
    void loadMyTasks();
  }, [loadMyTasks]);

  /// A task view from anywhere (the stream, a fetch after a purchase) entering the page.
  const receiveTask = useCallback(
    (task: Task) => {
      if (!address || task.user.toLowerCase() !== address.toLowerCase()) return;
      if (statusChanged(tasksRef.current.byId[task.id], task)) {
        setAnnouncement(t("announce.taskStatus", { id: task.id, status: t(statusKey(task.status)) }));
      }
      dispatch({ type: "upsert", task });
      onTaskChanged();
    },
    [address, t, onTaskChanged],
  );

  /// After the stream (re)opens: catch up on whatever changed while it was down.
  const catchUp = useCallback(async () => {
    onReconnected();
    if (signedIn) await loadMyTasks();
    else {
      for (const task of Object.values(tasksRef.current.byId)) {
        api.task(task.id).then(receiveTask, () => undefined);
      }
    }
  }, [signedIn, loadMyTasks, receiveTask, onReconnected]);

  // The stream's listeners call the latest handlers without reopening the stream.
  const handlers = useRef({ receiveTask, catchUp, onService });
  handlers.current = { receiveTask, catchUp, onService };

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    return followEvents(
      streamUrl(address),
      {
        task: (data) => {
          const task = parseTaskEvent(data);
          if (task) handlers.current.receiveTask(task);
        },
        service: (data) => {
          const svc = parseServiceEvent(data);
          if (svc) handlers.current.onService(svc);
        },
        // The server dropped events for this client (it fell behind): re-read everything shown.
        resync: () => void handlers.current.catchUp(),
      },
      { onState: setStream, onOpen: () => void handlers.current.catchUp() },
    );
  }, [address]);

  const list = useMemo(() => sortedTasks(tasks), [tasks]);
  return { tasks: list, byId: tasks.byId, loading, error, stream, announcement, receiveTask };
}
