// What the federated-learning pages share: amounts in their token's units, a task's name and
// badges, and the state of the transaction an action sent (step, hash, or the sentence saying why
// it failed).
import { specName, type FlMode, type FlState, type FlTask } from "../lib/fl";
import { formatAmount, shortAddress } from "../lib/format";
import type { Tokens } from "../lib/services";
import type { FlTx } from "../hooks/useFlTx";
import { useI18n } from "../i18n-context";
import { TxHash } from "./TxHash";

/// Data sets by their spec name (proper names, the same in every language).
const DATASET_NAMES: Record<string, string> = { "fashion-mnist": "Fashion-MNIST", mnist: "MNIST", digits: "Digits 8×8" };

/// `amount` in `token`'s units with every decimal, or the raw integer and the token's address when
/// the page does not know the token.
export function amountIn(tokens: Tokens, value: bigint, token: string): string {
  const info = tokens[token.toLowerCase()];
  return info ? formatAmount(value, info.decimals, info.symbol, info.decimals) : `${value} (${shortAddress(token)})`;
}

/// The spec's name when it has one, else `#id` and the data set.
export function taskName(task: FlTask): string {
  const dataset = task.specInfo?.dataset;
  return specName(task) ?? (typeof dataset === "string" ? `#${task.id} · ${DATASET_NAMES[dataset] ?? dataset}` : `#${task.id}`);
}

export function ModeBadge({ mode }: { mode: FlMode }) {
  const { t } = useI18n();
  return (
    <span className={`badge badge-${mode === "reward" ? "info" : "ok"}`} data-testid="fl-mode">
      {t(`fl.mode.${mode}`)}
    </span>
  );
}

export function StateBadge({ state }: { state: FlState }) {
  const { t } = useI18n();
  const tone = state === "Training" ? "info" : state === "Finished" ? "ok" : state === "Open" ? "warn" : "muted";
  return (
    <span className={`badge badge-${tone}`} data-testid="fl-state" data-state={state}>
      {t(`fl.state.${state}`)}
    </span>
  );
}

/// The transaction `action` sent, if it is the one `tx` is about.
export function TxStatus({ tx, action }: { tx: FlTx | null; action: string }) {
  const { t } = useI18n();
  if (!tx || tx.action !== action) return null;
  if (tx.phase === "failed") {
    return (
      <p className="notice notice-error" role="alert" data-testid="fl-tx-error">
        {tx.error}
      </p>
    );
  }
  return (
    <p className="status-line" role="status" data-testid="fl-tx" data-phase={tx.phase}>
      {t(`fl.tx.${tx.phase}`)}
      {tx.hash && (
        <>
          {" "}
          <TxHash hash={tx.hash} />
        </>
      )}
    </p>
  );
}
