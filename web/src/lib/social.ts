// A person's side of the community market as the node's API sends it (crates/api/src/{profiles,
// email,notifications}.rs): the public profile (display name, avatar), the e-mail address and its
// verification, the notifications with their unread count and live stream, and the notification
// preferences per scope (`default`, `community:N`, `task:N`). Answers are checked on the way in
// (lib/board.ts's readers); the rules the page applies before asking (a name's length, an e-mail's
// shape, which scope a preference names, where a notification links) are pure functions here.
import type { Hex } from "viem";
import { ApiError } from "./api";
import { addr, getJson, int, list, obj, optInt, optStr, str } from "./board";
import { boardHref } from "./boardRoute";

export interface Profile {
  address: Hex;
  displayName: string | null;
  avatar: string | null;
  avatarUrl: string | null;
  updatedAt: number | null;
}

export interface EmailState {
  email: string | null;
  verified: boolean;
  verifiedAt: number | null;
}

export interface Notification {
  id: number;
  kind: string;
  subject: string;
  title: string;
  payload: Record<string, unknown>;
  createdAt: number;
  readAt: number | null;
}

export interface NotificationPage {
  items: Notification[];
  unread: number;
}

export const LEVELS = ["muted", "normal", "watching"] as const;
export type Level = (typeof LEVELS)[number];
export interface Pref {
  scope: string;
  level: Level;
}

export function readProfile(v: unknown): Profile {
  const o = obj(v, "profile");
  return {
    address: addr(o.address, "profile.address"),
    displayName: optStr(o.displayName, "profile.displayName"),
    avatar: optStr(o.avatar, "profile.avatar"),
    avatarUrl: optStr(o.avatarUrl, "profile.avatarUrl"),
    updatedAt: optInt(o.updatedAt, "profile.updatedAt"),
  };
}

export function readEmail(v: unknown): EmailState {
  const o = obj(v, "email");
  return { email: optStr(o.email, "email.email"), verified: o.verified === true, verifiedAt: optInt(o.verifiedAt, "email.verifiedAt") };
}

export function readNotification(v: unknown, what = "notification"): Notification {
  const o = obj(v, what);
  return {
    id: int(o.id, `${what}.id`),
    kind: str(o.kind, `${what}.kind`),
    subject: str(o.subject, `${what}.subject`),
    title: str(o.title, `${what}.title`),
    payload: o.payload && typeof o.payload === "object" && !Array.isArray(o.payload) ? (o.payload as Record<string, unknown>) : {},
    createdAt: int(o.createdAt, `${what}.createdAt`),
    readAt: optInt(o.readAt, `${what}.readAt`),
  };
}

export function readNotificationPage(v: unknown): NotificationPage {
  const o = obj(v, "answer");
  return { items: list(o.items, "items", readNotification), unread: int(o.unread, "unread") };
}

function readLevel(v: unknown, what: string): Level {
  if (typeof v !== "string" || !(LEVELS as readonly string[]).includes(v)) throw new Error(`${what} is not a level`);
  return v as Level;
}

export function readPrefs(v: unknown): Pref[] {
  const o = obj(v, "answer");
  return list(o.prefs, "prefs", (x, w) => {
    const p = obj(x, w);
    return { scope: str(p.scope, `${w}.scope`), level: readLevel(p.level, `${w}.level`) };
  });
}

// ---------------------------------------------------------------- rules before asking

/// The longest display name (profiles.rs), in characters once trimmed.
export const MAX_NAME = 40;

/// What is wrong with a display name (empty clears it), or null.
export function nameProblem(name: string): "long" | "control" | null {
  const n = name.trim();
  if ([...n].length > MAX_NAME) return "long";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(n)) return "control";
  return null;
}

/// Whether `s` looks like an e-mail address worth sending (the node's parser has the last word).
export function emailLooksValid(s: string): boolean {
  const e = s.trim();
  return e.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e);
}

/// The avatar types and size the node takes (PNG, JPEG or GIF, at most 2 MiB).
export const AVATAR_TYPES = ["image/png", "image/jpeg", "image/gif"] as const;
export const MAX_AVATAR_BYTES = 2 * 1024 * 1024;

export function avatarProblem(file: { type: string; size: number }): "type" | "size" | null {
  if (!(AVATAR_TYPES as readonly string[]).includes(file.type)) return "type";
  return file.size > MAX_AVATAR_BYTES ? "size" : null;
}

/// A refusal of a profile, e-mail or preferences save as the message key that explains it, or null
/// when the node's own message is the best there is.
export function saveErrorKey(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.status === 401) return "profile.error.signIn";
  return (
    {
      avatar_unknown: "profile.error.avatarUnknown",
      avatar_too_large: "profile.error.avatarSize",
      avatar_not_image: "profile.error.avatarType",
      invalid_email: "profile.error.email",
      too_many_links: "profile.error.tooManyLinks",
    } as Record<string, string>
  )[e.code] ?? null;
}

// ---------------------------------------------------------------- verification links

/// The token of a verification link's hash (`#/verify-email?token=…`), or null when it has none
/// of the right shape (64 hex digits).
export function verifyTokenOf(hash: string): string | null {
  const q = hash.indexOf("?");
  if (q < 0) return null;
  const token = new URLSearchParams(hash.slice(q + 1)).get("token")?.trim() ?? "";
  return /^[0-9a-fA-F]{64}$/.test(token) ? token.toLowerCase() : null;
}

export type VerifyFailure = "unknown" | "used" | "expired" | "superseded" | "other";

/// Why a verification was refused, from the node's error code (email.rs).
export function verifyFailure(e: unknown): VerifyFailure {
  if (!(e instanceof ApiError)) return "other";
  switch (e.code) {
    case "token_unknown":
      return "unknown";
    case "token_used":
      return "used";
    case "token_expired":
      return "expired";
    case "token_superseded":
      return "superseded";
    default:
      return "other";
  }
}

// ---------------------------------------------------------------- notifications

/// Where a notification leads: its task on the board, its community, or the compute market's task
/// list; null for a subject the page does not know.
export function notificationHref(n: Pick<Notification, "subject">): string | null {
  const m = /^([a-z-]+):([0-9]{1,16})$/.exec(n.subject);
  if (!m) return null;
  const id = Number(m[2]);
  if (m[1] === "board-task") return boardHref({ page: "task", id });
  if (m[1] === "community") return boardHref({ page: "community", id });
  if (m[1] === "compute-task") return "#/";
  return null;
}

/// The message key of a notification's kind and the values it names (task, worker, community,
/// amount); the page falls back to the node's English title for a kind it has no text for.
export function notificationText(n: Notification): { key: string; vars: Record<string, string | number> } {
  const p = n.payload;
  const vars: Record<string, string | number> = {};
  const task = p.taskId ?? /^board-task:([0-9]+)$/.exec(n.subject)?.[1];
  if (task !== undefined) vars.task = String(task);
  const community = p.communityId ?? /^community:([0-9]+)$/.exec(n.subject)?.[1];
  if (community !== undefined) vars.community = String(community);
  if (typeof p.worker === "string" && /^0x[0-9a-fA-F]{40}$/.test(p.worker)) vars.worker = `${p.worker.slice(0, 6)}…${p.worker.slice(-4)}`;
  if (typeof p.amount === "string" || typeof p.amount === "number") vars.amount = String(p.amount);
  return { key: `notif.kind.${n.kind}`, vars };
}

/// `held` with `incoming` merged in: one entry per id (the newer copy wins — a read mark), newest
/// first, at most `max`.
export function mergeNotifications(held: readonly Notification[], incoming: readonly Notification[], max = 100): Notification[] {
  const byId = new Map<number, Notification>();
  for (const n of held) byId.set(n.id, n);
  for (const n of incoming) byId.set(n.id, n);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, max);
}

/// `held` with `ids` (or everything, for `all`) marked read at `at`.
export function markedRead(held: readonly Notification[], ids: readonly number[] | "all", at: number): Notification[] {
  return held.map((n) => (n.readAt === null && (ids === "all" || ids.includes(n.id)) ? { ...n, readAt: at } : n));
}

// ---------------------------------------------------------------- preferences

export type ScopeKind = "default" | "community" | "task";

/// A scope's kind and id (`community:3` → community 3), or null for a malformed one.
export function parseScope(scope: string): { kind: ScopeKind; id: number | null } | null {
  if (scope === "default") return { kind: "default", id: null };
  const m = /^(community|task):([0-9]{1,16})$/.exec(scope);
  return m ? { kind: m[1] as ScopeKind, id: Number(m[2]) } : null;
}

export const scopeOf = (kind: "community" | "task", id: number) => `${kind}:${id}`;

/// The level in force for `scope`: its own, else the default's, else `normal`.
export function levelOf(prefs: readonly Pref[], scope: string): Level {
  return prefs.find((p) => p.scope === scope)?.level ?? prefs.find((p) => p.scope === "default")?.level ?? "normal";
}

/// `prefs` with `scope` set to `level`, or dropped (following the default) for null; the order
/// kept, a new scope last.
export function withPref(prefs: readonly Pref[], scope: string, level: Level | null): Pref[] {
  const rest = prefs.filter((p) => p.scope !== scope);
  if (level === null) return rest;
  const i = prefs.findIndex((p) => p.scope === scope);
  if (i < 0) return [...rest, { scope, level }];
  return prefs.map((p) => (p.scope === scope ? { scope, level } : p));
}

/// The preferences grouped as the profile lists them: the default, then communities and tasks by id.
export function groupPrefs(prefs: readonly Pref[]): { default: Level; communities: { id: number; level: Level }[]; tasks: { id: number; level: Level }[] } {
  const communities: { id: number; level: Level }[] = [];
  const tasks: { id: number; level: Level }[] = [];
  for (const p of prefs) {
    const s = parseScope(p.scope);
    if (s?.kind === "community" && s.id !== null) communities.push({ id: s.id, level: p.level });
    if (s?.kind === "task" && s.id !== null) tasks.push({ id: s.id, level: p.level });
  }
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  return { default: prefs.find((p) => p.scope === "default")?.level ?? "normal", communities: communities.sort(byId), tasks: tasks.sort(byId) };
}

// ---------------------------------------------------------------- the calls

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export const socialApi = {
  profile: (address: string) => getJson(`/api/profiles/${address.toLowerCase()}`, readProfile),
  saveProfile: (p: { displayName: string | null; avatar: string | null }) => getJson("/api/me/profile", readProfile, json("PUT", p)),
  email: () => getJson("/api/me/email", readEmail),
  setEmail: (email: string) => getJson("/api/me/email", readEmail, json("PUT", { email: email.trim() })),
  verifyEmail: (token: string) =>
    getJson("/api/email/verify", (v) => {
      const o = obj(v, "answer");
      return { account: addr(o.account, "account"), email: str(o.email, "email") };
    }, json("POST", { token })),
  notifications: (q: { before?: number; after?: number; limit?: number } = {}) => {
    const s = new URLSearchParams();
    if (q.before !== undefined) s.set("before", String(q.before));
    if (q.after !== undefined) s.set("after", String(q.after));
    if (q.limit !== undefined) s.set("limit", String(q.limit));
    return getJson(`/api/me/notifications?${s}`, readNotificationPage);
  },
  markRead: (ids: readonly number[] | "all") =>
    getJson("/api/me/notifications/read", (v) => ({ unread: int(obj(v, "answer").unread, "unread") }), json("POST", ids === "all" ? { all: true } : { ids })),
  prefs: () => getJson("/api/me/notification-prefs", readPrefs),
  savePrefs: (prefs: readonly Pref[]) => getJson("/api/me/notification-prefs", readPrefs, json("PUT", { prefs })),
};
