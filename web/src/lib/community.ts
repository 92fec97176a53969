// Communities as `/api/communities*` sends them (issue 15): the community (owner, arbiter, points
// token, admins, members' count), its leaderboard and members, checked on the way in like the
// board's answers (lib/board.ts); and who may do what in one (Communities.sol: the owner adds
// admins and turns transfers on or off, admins mint and set minting allowances, anyone else joins,
// and every member but the owner may leave).
import type { Hex } from "viem";
import { addr, amount, getJson, int, list, obj, str } from "./board";

export interface Community {
  id: number;
  owner: Hex;
  arbiter: Hex;
  pointsToken: Hex;
  name: string;
  symbol: string;
  metadataUri: string;
  transfersEnabled: boolean;
  memberCount: number;
  admins: Hex[];
  createdAt: number;
}

export interface LeaderEntry {
  account: Hex;
  balance: string;
}

export interface Member {
  account: Hex;
  joinedAt: number;
  points: string;
  admin: boolean;
}

export function readCommunity(v: unknown, what = "community"): Community {
  const o = obj(v, what);
  if (typeof o.transfersEnabled !== "boolean") throw new Error(`${what}.transfersEnabled is not a boolean`);
  return {
    id: int(o.id, `${what}.id`),
    owner: addr(o.owner, `${what}.owner`),
    arbiter: addr(o.arbiter, `${what}.arbiter`),
    pointsToken: addr(o.pointsToken, `${what}.pointsToken`),
    name: str(o.name, `${what}.name`),
    symbol: str(o.symbol, `${what}.symbol`),
    metadataUri: str(o.metadataUri ?? "", `${what}.metadataUri`),
    transfersEnabled: o.transfersEnabled,
    memberCount: int(o.memberCount, `${what}.memberCount`),
    admins: list(o.admins ?? [], `${what}.admins`, addr),
    createdAt: int(o.createdAt, `${what}.createdAt`),
  };
}

function readLeader(v: unknown, what: string): LeaderEntry {
  const o = obj(v, what);
  return { account: addr(o.account, `${what}.account`), balance: amount(o.balance, `${what}.balance`) };
}

function readMember(v: unknown, what: string): Member {
  const o = obj(v, what);
  return {
    account: addr(o.account, `${what}.account`),
    joinedAt: int(o.joinedAt, `${what}.joinedAt`),
    points: amount(o.points, `${what}.points`),
    admin: o.admin === true,
  };
}

export const communityApi = {
  list: (limit = 50, offset = 0) =>
    getJson(`/api/communities?limit=${limit}&offset=${offset}`, (v) => list(obj(v, "answer").communities, "communities", readCommunity)),
  get: (id: number) =>
    getJson(`/api/communities/${id}`, (v) => {
      const o = obj(v, "answer");
      return { community: readCommunity(o.community), leaderboard: list(o.leaderboard, "leaderboard", readLeader) };
    }),
  members: (id: number, limit = 50, offset = 0) =>
    getJson(`/api/communities/${id}/members?limit=${limit}&offset=${offset}`, (v) => list(obj(v, "answer").members, "members", readMember)),
};

export type CommunityRole = "owner" | "admin" | "member" | "visitor";

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/// What `viewer` is in `c`: the owner (also an admin), an admin, a member (`isMember` from the
/// account's memberships) or a visitor.
export function communityRole(c: Community, viewer: string | null, isMember: boolean): CommunityRole {
  if (!viewer) return "visitor";
  if (same(c.owner, viewer)) return "owner";
  if (c.admins.some((a) => same(a, viewer))) return "admin";
  return isMember ? "member" : "visitor";
}

export interface CommunityRights {
  join: boolean;
  leave: boolean;
  /// Add (or remove) admins, points transfers on or off: the owner's.
  manageAdmins: boolean;
  setTransfers: boolean;
  /// Mint points and set a minter's allowance (the task board's): admins', the owner included.
  mint: boolean;
  setAllowance: boolean;
}

export function communityRights(role: CommunityRole, connected: boolean, isMember: boolean): CommunityRights {
  const admin = role === "owner" || role === "admin";
  return {
    join: connected && !isMember && role !== "owner",
    leave: connected && isMember && role !== "owner",
    manageAdmins: role === "owner",
    setTransfers: role === "owner",
    mint: admin,
    setAllowance: admin,
  };
}

/// Checks on the create form: the contract's lengths (name 1–64 bytes, symbol 1–16, URI ≤ 512) and
/// an arbiter address; the field at fault, or null.
export function communityFormProblem(f: { name: string; symbol: string; metadataUri: string; arbiter: string }): "name" | "symbol" | "metadataUri" | "arbiter" | null {
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  if (bytes(f.name.trim()) < 1 || bytes(f.name.trim()) > 64) return "name";
  if (bytes(f.symbol.trim()) < 1 || bytes(f.symbol.trim()) > 16) return "symbol";
  if (bytes(f.metadataUri.trim()) > 512) return "metadataUri";
  if (!/^0x[0-9a-fA-F]{40}$/.test(f.arbiter.trim()) || /^0x0{40}$/.test(f.arbiter.trim())) return "arbiter";
  return null;
}
