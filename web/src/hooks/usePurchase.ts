// The purchase flow of the buy dialog: approve (ERC-20, when the allowance is short), simulate
// through the node, the wallet prompt, the hash while the transaction is mined, then the task the
// market created. The dialog draws `state`; the task's status then follows the server's pushes.
import { useCallback, useReducer } from "react";
import { api, type NetworkInfo, type Service, type Task } from "../lib/api";
import { ETH_TOKEN } from "../lib/abi";
import { idlePurchase, purchaseErrorText, purchaseReducer, type StepId } from "../lib/purchase";
import { allowance, approveCall, buyCall, sendCall, taskIdFromReceipt } from "../lib/tx";
import type { Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";

interface Options {
  net: NetworkInfo;
  service: Service;
  wallet: Wallet | null;
  chainOk: boolean;
  onTaskCreated(task: Task): void;
  onBalancesChanged(): void;
}

export function usePurchase({ net, service, wallet, chainOk, onTaskCreated, onBalancesChanged }: Options) {
  const { t } = useI18n();
  const [state, dispatch] = useReducer(purchaseReducer, idlePurchase);

  /// Shows a problem with the input (nothing was sent).
  const reject = useCallback((error: string) => dispatch({ type: "failed", error }), []);

  /// Buys `service` with the encoded task `input`.
  const buy = useCallback(
    async (input: string) => {
      if (!wallet || !chainOk || state.busy) return;
      dispatch({ type: "start" });
      const step = (id: StepId, s: "active" | "done", extra: { hash?: `0x${string}`; block?: bigint } = {}) =>
        dispatch({ type: "step", id, state: s, ...extra });
      let current: StepId = "simulate";
      try {
        if (service.token.toLowerCase() !== ETH_TOKEN) {
          const token = service.token;
          const have = await allowance(net, token, wallet.address);
          const need = BigInt(service.price);
          if (have < need) {
            current = "approve";
            step("approve", "active");
            const receipt = await sendCall(net, wallet, approveCall(token, net.computeMarket, need), {
              onSent: (hash) => step("approve", "active", { hash }),
            });
            step("approve", "done", { block: receipt.blockNumber });
          }
        }
        current = "simulate";
        step("simulate", "active");
        const receipt = await sendCall(net, wallet, buyCall(net, service, input), {
          onPrompt: () => {
            step("simulate", "done");
            current = "wallet";
            step("wallet", "active");
          },
          onSent: (hash) => {
            step("wallet", "done");
            current = "sent";
            step("sent", "active", { hash });
          },
        });
        step("sent", "done", { block: receipt.blockNumber });
        const id = taskIdFromReceipt(net, receipt);
        dispatch({ type: "created", taskId: id });
        onBalancesChanged();
        api.task(id).then(onTaskCreated, () => undefined);
      } catch (err) {
        dispatch({ type: "failed", step: current, error: purchaseErrorText(err, t) });
      }
    },
    [net, service, wallet, chainOk, state.busy, onTaskCreated, onBalancesChanged, t],
  );

  return { state, buy, reject };
}
