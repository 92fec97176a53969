// Task statuses and timeline events as people read them.
import type { Task, TaskStatus } from "./api";
import type { MessageKey } from "./i18n";

/// The message key for a task status (`status.Created` → 已创建（等待计算）).
export function statusKey(status: TaskStatus): MessageKey {
  switch (status) {
    case "Created":
      return "status.created";
    case "Running":
      return "status.running";
    case "Completed":
      return "status.completed";
    case "Refunded":
      return "status.refunded";
    default:
      return "status.unknown";
  }
}

/// A finished task changes no more.
export function isFinal(status: TaskStatus): boolean {
  return status === "Completed" || status === "Refunded";
}

/// The message key for a timeline event, or `null` for events shown as part of another
/// (`TaskInput` travels with `TaskCreated`).
export function timelineKey(event: string): MessageKey | null {
  switch (event) {
    case "TaskCreated":
      return "timeline.created";
    case "TaskInput":
      return null;
    case "TaskStarted":
      return "timeline.started";
    case "TaskCompleted":
      return "timeline.completed";
    case "TaskFailed":
      return "timeline.failed";
    case "TaskRefunded":
      return "timeline.refunded";
    default:
      return "timeline.other";
  }
}

/// The buyer may take the escrow back once the deadline has passed and the task is unfinished
/// (`claimRefund` reverts with `DeadlineNotReached` while `block.timestamp <= deadline`).
export function canRefund(task: Pick<Task, "status" | "deadline">, nowSeconds: number): boolean {
  return !isFinal(task.status) && task.deadline != null && nowSeconds > task.deadline;
}

/// The steps a task goes through, for a progress display: each is done, current or pending.
/// `started: false` (its timeline has no `TaskStarted`) leaves Running out of a refunded task, which
/// was then refunded without ever running.
export function progressSteps(
  status: TaskStatus,
  started?: boolean,
): { key: MessageKey; state: "done" | "current" | "pending" }[] {
  const order: TaskStatus[] =
    status === "Refunded" && started === false
      ? ["Created", "Refunded"]
      : ["Created", "Running", status === "Refunded" ? "Refunded" : "Completed"];
  const at = order.indexOf(status);
  return order.map((s, i) => ({
    key: statusKey(s),
    state: i < at ? "done" : i === at ? (isFinal(s) ? "done" : "current") : "pending",
  }));
}
