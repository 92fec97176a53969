// Communities as the pages read them: the list, one community with its leaderboard, its members a
// page at a time, and the board's minting allowance in it (read from Communities on chain). Each
// re-reads when the live signal moves.
import { useCallback, useEffect, useState } from "react";
import type { Hex } from "viem";
import type { NetworkInfo } from "../lib/api";
import { communitiesAbi, communityPointsAbi, taskBoardAbi } from "../generated/abi";
import { communityApi, type Community, type LeaderEntry, type Member } from "../lib/community";
import { errorText, publicClientFor } from "../lib/wallet";
import type { BoardLive } from "./useBoard";
import { useLatest } from "./useBoardData";

export function useCommunities(live: BoardLive, enabled: boolean) {
  const [communities, setCommunities] = useState<Community[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatest();
  const reload = useCallback(async () => {
    const mine = latest.start();
    try {
      const list = await communityApi.list(100, 0);
      if (!latest.is(mine)) return;
      setCommunities(list);
      setError(null);
    } catch (e) {
      if (latest.is(mine)) setError(errorText(e));
    }
  }, [latest]);
  useEffect(() => {
    if (enabled) void reload();
  }, [enabled, reload, live.version]);
  return { communities, error, reload };
}

export const MEMBERS_PAGE = 20;

export function useCommunity(id: number, live: BoardLive, enabled: boolean, membersPage: number) {
  const [community, setCommunity] = useState<Community | null>(null);
  const [leaderboard, setLeaderboard] = useState<LeaderEntry[]>([]);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatest();
  const reload = useCallback(async () => {
    const mine = latest.start();
    try {
      const [c, m] = await Promise.all([communityApi.get(id), communityApi.members(id, MEMBERS_PAGE + 1, membersPage * MEMBERS_PAGE)]);
      if (!latest.is(mine)) return;
      setCommunity(c.community);
      setLeaderboard(c.leaderboard);
      setMembers(m);
      setError(null);
    } catch (e) {
      if (latest.is(mine)) setError(errorText(e));
    }
  }, [id, membersPage, latest]);
  useEffect(() => {
    setCommunity(null);
    setMembers(null);
  }, [id]);
  useEffect(() => {
    if (enabled) void reload();
  }, [enabled, reload, live.version]);
  return { community, leaderboard, members, error, reload };
}

/// The board's minting budget in a community and `account`'s points balance, read on chain.
export function useChainFigures(net: NetworkInfo | null, communities: Hex | null, taskBoard: Hex | null, community: Community | null, account: Hex | null, version: number) {
  const [budget, setBudget] = useState<{ allowance: bigint; reserved: bigint } | null>(null);
  const [balance, setBalance] = useState<bigint | null>(null);
  const cid = community?.id ?? null;
  const points = community?.pointsToken ?? null;
  useEffect(() => {
    if (!net || cid === null) return;
    let cancelled = false;
    const client = publicClientFor(net);
    if (communities && taskBoard) {
      client.readContract({ address: communities, abi: communitiesAbi, functionName: "mintBudget", args: [BigInt(cid), taskBoard] }).then(
        (b) => !cancelled && setBudget({ allowance: b.allowance, reserved: b.reserved }),
        () => !cancelled && setBudget(null),
      );
    }
    if (points && account) {
      client.readContract({ address: points, abi: communityPointsAbi, functionName: "balanceOf", args: [account] }).then(
        (b) => !cancelled && setBalance(b),
        () => !cancelled && setBalance(null),
      );
    } else setBalance(null);
    return () => {
      cancelled = true;
    };
  }, [net, communities, taskBoard, cid, points, account, version]);
  return { budget, balance };
}

/// What the task board owes `account` per token (payouts it could not push: a receiver that
/// refused ETH, a token that blocked the transfer), read on chain; only the non-zero ones.
export function useOwed(net: NetworkInfo | null, taskBoard: Hex | null, account: Hex | null, tokens: readonly Hex[], version: number) {
  const [owed, setOwed] = useState<{ token: Hex; amount: bigint }[]>([]);
  const key = tokens.join(",");
  useEffect(() => {
    if (!net || !taskBoard || !account) return;
    let cancelled = false;
    const client = publicClientFor(net);
    const list = key ? (key.split(",") as Hex[]) : [];
    Promise.all(list.map((token) => client.readContract({ address: taskBoard, abi: taskBoardAbi, functionName: "owed", args: [account, token] }).catch(() => 0n))).then(
      (amounts) => !cancelled && setOwed(list.flatMap((token, i) => (amounts[i] > 0n ? [{ token, amount: amounts[i] }] : []))),
    );
    return () => {
      cancelled = true;
    };
  }, [net, taskBoard, account, key, version]);
  return owed;
}
