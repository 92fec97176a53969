// The admin back office's view of the task board: every task with a dispute waiting for its
// arbiter comes first (the most disputes first), then the rest newest first, as the node lists them.
import type { BoardTask } from "./board";

/// `tasks` with those holding disputed claims first (more disputes first); the order among equals
/// kept (the node's newest-first).
export function disputedFirst(tasks: readonly BoardTask[]): BoardTask[] {
  return tasks
    .map((task, i) => ({ task, i }))
    .sort((a, b) => b.task.counts.disputed - a.task.counts.disputed || a.i - b.i)
    .map((x) => x.task);
}

/// Claims still in play on a task (working, submitted, rejected or disputed), for the admin's list.
export function activeClaims(task: BoardTask): number {
  const c = task.counts;
  return c.working + c.submitted + c.rejected + c.disputed;
}
