// The federated-learning section (`#/fl…`): the task list, a task's page or the predict page, as
// the hash says (lib/route.ts `flViewOf`), sharing one market state (useFlMarket: the transaction
// under way, the chain's signal to re-read).
import type { NetworkInfo } from "../lib/api";
import type { Tokens } from "../lib/services";
import type { Wallet } from "../lib/wallet";
import { useFlMarket } from "../hooks/useFlMarket";
import { useFlView } from "../hooks/useRoute";
import { FlPredictPage } from "./FlPredict";
import { FlTaskPage } from "./FlTaskPage";
import { FlTasksPage } from "./FlTasks";

interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
  onConnect(): void;
  onBalancesChanged(): void;
}

export function FlSection(p: Props) {
  const view = useFlView();
  const fl = useFlMarket({ net: p.net, wallet: p.wallet, chainOk: p.chainOk, onBalancesChanged: p.onBalancesChanged });
  // Keyed by the id: moving from one task to another starts from nothing, so neither the previous
  // task nor a late answer about it is ever shown under the new one's address.
  if (view.page === "task") return <FlTaskPage key={view.id} id={view.id} wallet={p.wallet} chainOk={p.chainOk} tokens={p.tokens} fl={fl} />;
  if (view.page === "predict") return <FlPredictPage key={view.id} id={view.id} wallet={p.wallet} chainOk={p.chainOk} tokens={p.tokens} fl={fl} onConnect={p.onConnect} />;
  return <FlTasksPage net={p.net} wallet={p.wallet} chainOk={p.chainOk} tokens={p.tokens} fl={fl} onConnect={p.onConnect} />;
}
