// The federated-learning market's actions and its live signal: the contract's address (from
// `/api/network`), one transaction runner per section (the fl pages, #/me), the FederatedMarket's
// logs on chain (each one bumps `version`, and the pages re-read what they show — then again a
// moment later, for the indexer to catch up), and the actions: create a task in either mode (the spec posted to
// `/api/fl/specs` first, a token pool approved), join, leave, buy blocks, cancel (the pool back to
// the investor) and take back held block payments, claim a reward with the node's proof (checked
// here against the root first), withdraw dividends, pay for a prediction.
import { useCallback, useEffect, useMemo, useState } from "react";
import type { Hex } from "viem";
import type { NetworkInfo } from "../lib/api";
import { federatedMarketAbi } from "../lib/abi";
import { chainNow } from "../lib/channels";
import { coordinatorOf, federatedMarketOf, flApi, type FlTask } from "../lib/fl";
import {
  buildSpec,
  buyBlocksCall,
  cancelCall,
  claimRewardCall,
  createTaskCall,
  joinCall,
  leaveCall,
  randomSeed,
  refundBlocksCall,
  requestIdFromReceipt,
  requestPredictionCall,
  taskIdFromReceipt,
  termsProblem,
  verifyRewardProof,
  withdrawDividendsCall,
  type CreateTerms,
  type SpecForm,
} from "../lib/flCalls";
import { errorText, publicClientFor, type Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";
import { useFlTx } from "./useFlTx";

interface Options {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  onBalancesChanged(): void;
}

/// What the create form gives besides the spec: the money terms and the deadlines (hours from now).
export interface CreateForm {
  mode: CreateTerms["mode"];
  token: Hex;
  pool: bigint;
  predictionFee: bigint;
  blockPrice: bigint;
  /// The first this many blocks of the spec's are sold; the rest are handed out at joining.
  blocksForSale: number;
  startHours: number;
  finishHours: number;
  spec: SpecForm;
}

export function useFlMarket({ net, wallet, chainOk, onBalancesChanged }: Options) {
  const { t } = useI18n();
  const market = useMemo(() => federatedMarketOf(net), [net]);
  const runner = useFlTx(net, wallet, chainOk, market);
  const { run, fail } = runner;
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);

  // The market's logs: any of them may change what a page shows.
  useEffect(() => {
    if (!net || !market) return;
    let later: ReturnType<typeof setTimeout> | undefined;
    const unwatch = publicClientFor(net).watchContractEvent({
      address: market,
      abi: federatedMarketAbi,
      onLogs: () => {
        bump();
        clearTimeout(later);
        later = setTimeout(bump, 1500);
      },
      onError: () => undefined,
    });
    return () => {
      clearTimeout(later);
      unwatch();
    };
  }, [net, market, bump]);

  const after = useCallback(() => {
    onBalancesChanged();
    bump();
  }, [onBalancesChanged, bump]);

  /// Posts the spec, then creates the task; its id, or `null` when something refused it.
  const create = useCallback(
    async (f: CreateForm): Promise<number | null> => {
      if (!net || !market || !wallet) return null;
      const built = buildSpec(f.spec, randomSeed());
      if ("problem" in built) {
        fail("create", t("fl.create.problem", { field: t(`fl.spec.${built.problem}`) }));
        return null;
      }
      let cid: string;
      let coordinator: Hex | null = coordinatorOf(net);
      let now: number;
      try {
        const answer = await flApi.spec(built.spec);
        cid = answer.cid;
        coordinator ??= answer.coordinator;
        now = Number(await chainNow(net));
      } catch (e) {
        fail("create", t("fl.create.specFailed", { message: errorText(e) }));
        return null;
      }
      if (!coordinator) {
        fail("create", t("fl.create.noCoordinator"));
        return null;
      }
      const startDeadline = now + Math.round(f.startHours * 3600);
      const terms: CreateTerms = {
        mode: f.mode,
        coordinator,
        token: f.token,
        pool: f.mode === "reward" ? f.pool : 0n,
        predictionFee: f.predictionFee,
        blockToken: net.marketToken,
        blockPrice: f.blockPrice,
        totalBlocks: f.blocksForSale,
        minParticipants: f.spec.minParticipants,
        startDeadline,
        finishDeadline: startDeadline + Math.round(f.finishHours * 3600),
        spec: cid,
      };
      const problem = f.blocksForSale > f.spec.blocks ? "blocks" : termsProblem(terms, now);
      if (problem) {
        fail("create", t("fl.create.problem", { field: t(`fl.terms.${problem}`) }));
        return null;
      }
      const receipt = await run("create", createTaskCall(market, terms), terms.mode === "reward" ? { token: terms.token, amount: terms.pool } : null);
      if (!receipt) return null;
      after();
      return taskIdFromReceipt(market, receipt);
    },
    [net, market, wallet, run, fail, after, t],
  );

  const join = useCallback(
    async (task: FlTask) => {
      if (!market) return false;
      const ok = !!(await run(`join:${task.id}`, joinCall(market, task.id)));
      if (ok) after();
      return ok;
    },
    [market, run, after],
  );

  const leave = useCallback(
    async (task: FlTask) => {
      if (!market) return false;
      const ok = !!(await run(`leave:${task.id}`, leaveCall(market, task.id)));
      if (ok) after();
      return ok;
    },
    [market, run, after],
  );

  const buyBlocks = useCallback(
    async (task: FlTask, count: number) => {
      if (!market) return false;
      let call;
      try {
        call = buyBlocksCall(market, task.id, count, task.blockToken, task.blockPrice);
      } catch (e) {
        fail(`blocks:${task.id}`, errorText(e));
        return false;
      }
      const ok = !!(await run(`blocks:${task.id}`, call, { token: task.blockToken, amount: task.blockPrice * BigInt(count) }));
      if (ok) after();
      return ok;
    },
    [market, run, fail, after],
  );

  /// Claims `account`'s reward with the node's proof, once it is shown to hold under the root.
  const claim = useCallback(
    async (task: FlTask, account: Hex, amount: bigint, proof: Hex[]) => {
      if (!market) return false;
      if (task.rewardRoot && !verifyRewardProof(task.rewardRoot, account, amount, proof)) {
        fail(`claim:${task.id}`, t("fl.result.badProof"));
        return false;
      }
      const ok = !!(await run(`claim:${task.id}`, claimRewardCall(market, task.id, account, amount, proof)));
      if (ok) after();
      return ok;
    },
    [market, run, fail, after, t],
  );

  const cancel = useCallback(
    async (task: FlTask) => {
      if (!market) return false;
      const ok = !!(await run(`cancel:${task.id}`, cancelCall(market, task.id)));
      if (ok) after();
      return ok;
    },
    [market, run, after],
  );

  const refundBlocks = useCallback(
    async (task: FlTask, account: Hex) => {
      if (!market) return false;
      const ok = !!(await run(`refund:${task.id}`, refundBlocksCall(market, task.id, account)));
      if (ok) after();
      return ok;
    },
    [market, run, after],
  );

  const withdrawDividends = useCallback(
    async (taskId: number, account: Hex) => {
      if (!market) return false;
      const ok = !!(await run(`withdraw:${taskId}`, withdrawDividendsCall(market, taskId, account)));
      if (ok) after();
      return ok;
    },
    [market, run, after],
  );

  /// Pays `task`'s fee for the input hashed to `inputHash`; the request id, or `null`.
  const payPrediction = useCallback(
    async (task: FlTask, inputHash: Hex): Promise<bigint | null> => {
      if (!market) return null;
      const receipt = await run(`predict:${task.id}`, requestPredictionCall(market, task.id, inputHash, task.predictionFee, task.token), {
        token: task.token,
        amount: task.predictionFee,
      });
      if (!receipt) return null;
      after();
      return requestIdFromReceipt(market, receipt);
    },
    [market, run, after],
  );

  /// What `account` may withdraw from `taskId`'s dividends, read from the contract.
  const withdrawable = useCallback(
    async (taskId: number, account: Hex): Promise<bigint | null> => {
      if (!net || !market) return null;
      try {
        return await publicClientFor(net).readContract({ address: market, abi: federatedMarketAbi, functionName: "withdrawableDividendOf", args: [BigInt(taskId), account] });
      } catch {
        return null;
      }
    },
    [net, market],
  );

  return { market, version, refresh: bump, ...runner, create, join, leave, buyBlocks, cancel, refundBlocks, claim, withdrawDividends, payPrediction, withdrawable };
}

export type FlMarket = ReturnType<typeof useFlMarket>;
