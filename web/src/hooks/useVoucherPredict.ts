// Paying a prediction from a payment channel (the "pay from a channel" choice of FlPredict): the
// node's fee receiver, the payer's open channels to it that this browser holds a session key for,
// and one paid request — the amount read from the node's account of the channel, checked against
// what this browser signed and the deposit, signed by the session key (no wallet prompt), recorded
// before it is sent, and kept with its idempotency key so that asking again never pays again.
import { useCallback, useEffect, useState } from "react";
import type { Hex } from "viem";
import { api, type Channel } from "../lib/api";
import type { FlTask } from "../lib/fl";
import { flVoucherApi, freshKey, nextVoucherAmount, type FeeTerms, type PaidVoucher, type VoucherPrediction } from "../lib/flVoucher";
import { browserStore, highestSigned, loadChannel, recordVoucher } from "../lib/sessionKeys";
import { signVoucher } from "../lib/voucher";
import { errorText, type Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";

export function useVoucherPredict(wallet: Wallet | null, enabled: boolean) {
  const { t } = useI18n();
  const [terms, setTerms] = useState<FeeTerms | null>(null);
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const payer = wallet?.address ?? null;

  const reload = useCallback(async () => {
    if (!enabled || !payer) return;
    try {
      const tm = await flVoucherApi.terms();
      setTerms(tm);
      const all = await api.channels({ payer, payee: tm.feeReceiver });
      setChannels(all.filter((c) => c.state === "Open" && !!loadChannel(browserStore, tm.chainId, c.id)));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [enabled, payer]);
  useEffect(() => void reload(), [reload]);

  /// Signs the voucher for one prediction of `task` on `channel` (throws a sentence when it cannot).
  const sign = async (task: FlTask, channel: Channel): Promise<PaidVoucher> => {
    if (!terms) throw new Error(t("predict.channel.none"));
    if (channel.token.toLowerCase() !== task.token.toLowerCase()) throw new Error(t("predict.channel.wrongToken"));
    const local = loadChannel(browserStore, terms.chainId, channel.id);
    if (!local || local.dead) throw new Error(t("predict.channel.noKey"));
    const account = await flVoucherApi.account(channel.id as Hex);
    const check = nextVoucherAmount(account.billed, task.predictionFee, highestSigned(local), BigInt(channel.deposit));
    if (!check.ok) {
      throw new Error(
        check.reason === "deposit"
          ? t("predict.channel.deposit", { amount: check.amount.toString(), deposit: check.deposit.toString() })
          : t("predict.channel.decreasing", { amount: check.amount.toString(), signed: check.signed.toString() }),
      );
    }
    const domain = { chainId: terms.chainId, contract: terms.channelContract };
    const signature = await signVoucher(local.sessionKey, domain, channel.id as Hex, check.amount);
    const key = freshKey();
    // Recorded before it leaves: a later voucher on this channel is never signed for less.
    recordVoucher(browserStore, terms.chainId, channel.id, { requestId: key, seq: null, amount: check.amount.toString(), signature, at: Date.now() });
    return { channelId: channel.id as Hex, amount: check.amount, signature, key };
  };

  /// Sends a signed voucher with the pixels (again, for a retry: the key makes it free).
  const ask = (task: FlTask, pixelsBase64: string, v: PaidVoucher): Promise<VoucherPrediction> => flVoucherApi.predict(task.id, pixelsBase64, v);

  return { terms, channels, error, reload, sign, ask };
}

export type VoucherPredict = ReturnType<typeof useVoucherPredict>;
