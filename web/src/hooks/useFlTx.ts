// Sending the federated-learning market's transactions one at a time, the way the page always
// does (lib/tx.ts: simulate through the node, the wallet, the receipt), with the ERC-20 approval
// first when the market's allowance is short, and the step shown: which action, approve /
// simulate / wallet / mining, the hash, and one sentence when it fails (a FederatedMarket refusal
// decoded here, lib/flErrors.ts).
import { useCallback, useRef, useState } from "react";
import type { Hex, TransactionReceipt } from "viem";
import type { NetworkInfo } from "../lib/api";
import { allowanceOf } from "../lib/channels";
import { isEthToken } from "../lib/flCalls";
import { flRevertText } from "../lib/flErrors";
import { purchaseErrorText } from "../lib/purchase";
import { approveCall, sendCall, type Call } from "../lib/tx";
import type { Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";

export type FlTxPhase = "approve" | "simulate" | "wallet" | "mining" | "done" | "failed";

export interface FlTx {
  /// What is being done (`join:3`, `create`, `claim:3` …), so the right button shows it.
  action: string;
  phase: FlTxPhase;
  hash: Hex | null;
  error: string | null;
}

/// What a transaction must pay in a token: approved first when the allowance is short.
export interface Payment {
  token: Hex;
  amount: bigint;
}

/// The phases in which a transaction is still under way.
export function isBusy(tx: FlTx | null): boolean {
  return !!tx && tx.phase !== "done" && tx.phase !== "failed";
}

export function useFlTx(net: NetworkInfo | null, wallet: Wallet | null, chainOk: boolean, market: Hex | null) {
  const { t } = useI18n();
  const [tx, setTx] = useState<FlTx | null>(null);
  const busy = useRef(false);

  /// Sends `call` (after approving `pay` when needed); the receipt, or `null` when it failed
  /// (the failure is in `tx.error`) or another transaction is under way.
  const run = useCallback(
    async (action: string, call: Call, pay?: Payment | null): Promise<TransactionReceipt | null> => {
      if (!net || !wallet || !chainOk || !market || busy.current) return null;
      busy.current = true;
      const set = (p: Partial<FlTx>) => setTx((cur) => ({ action, phase: "simulate", hash: null, error: null, ...(cur?.action === action ? cur : {}), ...p }));
      setTx({ action, phase: "simulate", hash: null, error: null });
      try {
        if (pay && pay.amount > 0n && !isEthToken(pay.token)) {
          const have = await allowanceOf(net, pay.token, wallet.address, market);
          if (have < pay.amount) {
            set({ phase: "approve" });
            await sendCall(net, wallet, approveCall(pay.token, market, pay.amount), { onSent: (h) => set({ hash: h }) });
          }
        }
        set({ phase: "simulate", hash: null });
        const receipt = await sendCall(net, wallet, call, {
          onPrompt: () => set({ phase: "wallet" }),
          onSent: (h) => set({ phase: "mining", hash: h }),
        });
        set({ phase: "done", hash: receipt.transactionHash });
        return receipt;
      } catch (e) {
        set({ phase: "failed", error: flRevertText(e, t) ?? purchaseErrorText(e, t) });
        return null;
      } finally {
        busy.current = false;
      }
    },
    [net, wallet, chainOk, market, t],
  );

  /// Shows a failure that happened before any transaction (a spec refused, a bad proof).
  const fail = useCallback((action: string, error: string) => setTx({ action, phase: "failed", hash: null, error }), []);
  const clear = useCallback(() => setTx(null), []);

  return { tx, run, fail, clear, busy: isBusy(tx) };
}

export type FlTxRunner = ReturnType<typeof useFlTx>;
