// The signed-in user's notifications: the latest page and the unread count, then each new one as
// the node pushes it on `/api/me/notifications/stream` (server-sent events: `notification`, and
// `resync` when this reader fell behind — the list is read again, as after every reconnect). Marking
// read goes to the node and is applied in place; older ones are read a page at a time.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { markedRead, mergeNotifications, readNotification, socialApi, type Notification } from "../lib/social";
import { followEvents, type StreamState } from "../lib/stream";
import { errorText } from "../lib/wallet";

export const NOTIFICATIONS_PAGE = 30;

export interface NotificationsState {
  items: Notification[];
  unread: number;
  loaded: boolean;
  /// Whether older ones may remain past the last item.
  more: boolean;
  error: string | null;
  stream: StreamState;
  /// The last one pushed live (the header announces it).
  latest: Notification | null;
  markRead(ids: readonly number[] | "all"): Promise<void>;
  loadOlder(): Promise<void>;
}

export function useNotifications(signedIn: boolean, address: string | null): NotificationsState {
  const [items, setItems] = useState<Notification[]>([]);
  const [unread, setUnread] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [stream, setStream] = useState<StreamState>("connecting");
  const [latest, setLatest] = useState<Notification | null>(null);
  const generation = useRef(0);
  /// Ids held, so a notification pushed twice (the stream and a re-read) counts once as unread.
  const known = useRef(new Set<number>());

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const page = await socialApi.notifications({ limit: NOTIFICATIONS_PAGE });
      if (mine !== generation.current) return;
      known.current = new Set(page.items.map((n) => n.id));
      setItems(page.items);
      setUnread(page.unread);
      setMore(page.items.length === NOTIFICATIONS_PAGE);
      setLoaded(true);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(errorText(e));
    }
  }, []);

  useEffect(() => {
    setItems([]);
    setUnread(0);
    setLoaded(false);
    setLatest(null);
    known.current = new Set();
    if (!signedIn || typeof EventSource === "undefined") {
      generation.current += 1;
      return;
    }
    return followEvents(
      "/api/me/notifications/stream",
      {
        notification: (data) => {
          let n: Notification;
          try {
            n = readNotification(JSON.parse(data));
          } catch {
            void reload();
            return;
          }
          if (!known.current.has(n.id) && n.readAt === null) setUnread((u) => u + 1);
          known.current.add(n.id);
          setItems((held) => mergeNotifications(held, [n]));
          setLatest(n);
        },
        resync: () => void reload(),
      },
      // What came while the stream was closed is read with the list.
      { onState: setStream, onOpen: () => void reload() },
    );
  }, [signedIn, address, reload]);

  const markRead = useCallback(async (ids: readonly number[] | "all") => {
    if (ids !== "all" && ids.length === 0) return;
    try {
      const { unread: left } = await socialApi.markRead(ids);
      setItems((held) => markedRead(held, ids, Math.floor(Date.now() / 1000)));
      setUnread(left);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  const oldest = items.length ? items[items.length - 1].id : null;
  const loadOlder = useCallback(async () => {
    if (oldest === null) return;
    try {
      const page = await socialApi.notifications({ before: oldest, limit: NOTIFICATIONS_PAGE });
      page.items.forEach((n) => known.current.add(n.id));
      setItems((held) => mergeNotifications(held, page.items, held.length + page.items.length));
      setMore(page.items.length === NOTIFICATIONS_PAGE);
      setUnread(page.unread);
    } catch (e) {
      setError(errorText(e));
    }
  }, [oldest]);

  return useMemo(
    () => ({ items, unread, loaded, more, error, stream, latest, markRead, loadOlder }),
    [items, unread, loaded, more, error, stream, latest, markRead, loadOlder],
  );
}
