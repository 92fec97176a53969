// What the profile page (`#/me`) shows of a person's compute tasks, payment channels and data
// orders: the newest few of each with how many more the full page holds, and the figures that sum
// them up (tasks per status, what is left in the open channels, what data orders paid and earned),
// with amounts kept as integers per token until a person reads them.
import type { Channel, ChannelState, DataOrder, DataOrderState, Task, TaskStatus } from "./api";
import { channelBalances } from "./channels";

/// How many of each the profile lists before pointing to the full page.
export const RECENT = 10;

/// The first `limit` of a list already in order, and how many were left out.
export interface Recent<T> {
  items: T[];
  total: number;
  more: number;
}

export function recent<T>(sorted: readonly T[], limit = RECENT): Recent<T> {
  const items = sorted.slice(0, Math.max(0, limit));
  return { items, total: sorted.length, more: sorted.length - items.length };
}

// ---------------------------------------------------------------- compute tasks

/// Newest first: latest bought, then the higher id (ids grow with every purchase).
export function newestTasks(tasks: readonly Task[]): Task[] {
  return [...tasks].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
}

const TASK_STATUSES: readonly TaskStatus[] = ["Running", "Created", "Completed", "Refunded"];

/// How many tasks are in each status, in the order a person looks for them (running first), the
/// statuses with none left out.
export function tasksByStatus(tasks: readonly Pick<Task, "status">[]): { status: TaskStatus; n: number }[] {
  return TASK_STATUSES.map((status) => ({ status, n: tasks.filter((t) => t.status === status).length })).filter((x) => x.n > 0);
}

// ---------------------------------------------------------------- payment channels

/// A channel as the profile lists it: what was deposited, what the node accepted (the highest
/// voucher), what is left, and its state, `Expired` once the chain's clock passed an open one.
export interface ChannelLine {
  channel: Channel;
  deposit: bigint;
  spent: bigint;
  remaining: bigint;
  state: ChannelState;
}

export function channelLine(c: Channel, nowSeconds: number): ChannelLine {
  const spent = BigInt(c.spent);
  const bal = channelBalances(BigInt(c.deposit), spent, spent);
  const state: ChannelState = c.state === "Open" && c.expiry <= nowSeconds ? "Expired" : c.state;
  return { channel: c, deposit: bal.deposit, spent: bal.accepted, remaining: bal.remaining, state };
}

/// The channels as the API lists them: the latest opened first (the channel carries no opening
/// time of its own, so that order is kept).
export function channelLines(channels: readonly Channel[], nowSeconds: number): ChannelLine[] {
  return channels.map((c) => channelLine(c, nowSeconds));
}

/// An amount per token, in the order the tokens first appear.
export interface TokenTotal {
  token: string;
  amount: bigint;
}

export function totalsByToken(entries: readonly TokenTotal[]): TokenTotal[] {
  const out: TokenTotal[] = [];
  for (const e of entries) {
    const token = e.token.toLowerCase();
    const held = out.find((x) => x.token === token);
    if (held) held.amount += e.amount;
    else out.push({ token, amount: e.amount });
  }
  return out;
}

/// What the open channels can still pay, per token (expired ones are the payer's to reclaim).
export function openRemaining(lines: readonly ChannelLine[]): TokenTotal[] {
  return totalsByToken(lines.filter((l) => l.state === "Open").map((l) => ({ token: l.channel.token, amount: l.remaining })));
}

// ---------------------------------------------------------------- data orders

export type OrderRole = "buyer" | "seller";

/// An order with the sides this person is on (both, for an order to oneself).
export interface OrderLine {
  order: DataOrder;
  roles: OrderRole[];
}

/// The orders bought and sold, once each, newest opened first.
export function orderLines(asBuyer: readonly DataOrder[], asSeller: readonly DataOrder[]): OrderLine[] {
  const byId = new Map<string, OrderLine>();
  const add = (o: DataOrder, role: OrderRole) => {
    const id = o.id.toLowerCase();
    const held = byId.get(id);
    if (held) {
      if (!held.roles.includes(role)) held.roles.push(role);
    } else byId.set(id, { order: o, roles: [role] });
  };
  asBuyer.forEach((o) => add(o, "buyer"));
  asSeller.forEach((o) => add(o, "seller"));
  return [...byId.values()].sort(
    (a, b) => b.order.openedBlock - a.order.openedBlock || b.order.openedAt - a.order.openedAt || (a.order.id < b.order.id ? -1 : 1),
  );
}

const STILL_RUNNING: readonly DataOrderState[] = ["Open", "Ending"];

/// What the orders moved, per token: paid to sellers on the orders bought, earned on those sold,
/// and still held in escrow for orders bought that have not been settled.
export interface OrderTotals {
  paid: TokenTotal[];
  earned: TokenTotal[];
  escrowed: TokenTotal[];
}

export function orderTotals(lines: readonly OrderLine[]): OrderTotals {
  const settled = (role: OrderRole) =>
    totalsByToken(
      lines
        .filter((l) => l.roles.includes(role) && l.order.paidToSeller != null)
        .map((l) => ({ token: l.order.token, amount: BigInt(l.order.paidToSeller as string) })),
    );
  const escrowed = totalsByToken(
    lines.filter((l) => l.roles.includes("buyer") && STILL_RUNNING.includes(l.order.state)).map((l) => ({ token: l.order.token, amount: BigInt(l.order.price) })),
  );
  return { paid: settled("buyer"), earned: settled("seller"), escrowed };
}

/// Whole percent of an order's bytes received (0 for an empty order).
export function receivedPercent(o: Pick<DataOrder, "received" | "totalBytes">): number {
  return o.totalBytes > 0 ? Math.min(100, Math.floor((o.received * 100) / o.totalBytes)) : 0;
}
