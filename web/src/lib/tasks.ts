// The signed-in user's tasks as the page holds them: a full list from `/api/me/tasks`, then single
// tasks pushed by the server's event stream (or fetched after a purchase). One reducer decides how
// a newer view replaces an older one.
import type { Task } from "./api";

export interface TasksState {
  /// Lower-case address whose tasks these are, or null before anyone is known.
  user: string | null;
  byId: Record<number, Task>;
}

export type TasksAction =
  | { type: "reset"; user: string | null }
  | { type: "loaded"; user: string; tasks: Task[] }
  | { type: "upsert"; task: Task };

export const emptyTasks: TasksState = { user: null, byId: {} };

/// `incoming` merged over `existing`: a view from an older block than the one held is ignored
/// (events can arrive before a slower list fetch answers); an equal or newer one wins, keeping the
/// held timeline and iExec details when the newer view comes without them (list endpoints omit
/// the timeline).
export function mergeTask(existing: Task | undefined, incoming: Task): Task {
  if (!existing) return incoming;
  if (incoming.updatedBlock < existing.updatedBlock) return existing;
  const timeline = incoming.timeline ?? existing.timeline;
  const iexec = incoming.iexec !== undefined ? incoming.iexec : existing.iexec;
  const merged: Task = { ...incoming };
  if (timeline !== undefined) merged.timeline = timeline;
  if (iexec !== undefined) merged.iexec = iexec;
  return merged;
}

export function tasksReducer(state: TasksState, action: TasksAction): TasksState {
  switch (action.type) {
    case "reset":
      return { user: action.user?.toLowerCase() ?? null, byId: {} };
    case "loaded": {
      const user = action.user.toLowerCase();
      if (state.user !== user) return state;
      const byId: Record<number, Task> = {};
      for (const t of action.tasks) {
        if (t.user.toLowerCase() === user) byId[t.id] = mergeTask(state.byId[t.id], t);
      }
      // Tasks pushed while the list was loading and newer than it stay.
      for (const t of Object.values(state.byId)) if (!(t.id in byId)) byId[t.id] = t;
      return { ...state, byId };
    }
    case "upsert": {
      if (!state.user || action.task.user.toLowerCase() !== state.user) return state;
      const merged = mergeTask(state.byId[action.task.id], action.task);
      if (merged === state.byId[action.task.id]) return state;
      return { ...state, byId: { ...state.byId, [action.task.id]: merged } };
    }
  }
}

/// Newest first.
export function sortedTasks(state: TasksState): Task[] {
  return Object.values(state.byId).sort((a, b) => b.id - a.id);
}

/// Parses one `event: task` payload of the stream; `null` for anything that is not a task.
export function parseTaskEvent(data: string): Task | null {
  try {
    const v = JSON.parse(data) as Partial<Task>;
    if (typeof v.id === "number" && typeof v.user === "string" && typeof v.status === "string") return v as Task;
  } catch {
    // not JSON: ignored
  }
  return null;
}
