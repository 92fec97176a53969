// The federated-learning section (`#/fl…`): the task list, a task's page or the predict page, as
// the hash says (lib/route.ts `flViewOf`).
import type { NetworkInfo } from "../lib/api";
import type { Tokens } from "../lib/services";
import type { Wallet } from "../lib/wallet";
import type { FlMarket } from "../hooks/useFlMarket";
import { useFlView } from "../hooks/useRoute";
import { FlPredictPage } from "./FlPredict";
import { FlTaskPage } from "./FlTaskPage";
import { FlTasksPage } from "./FlTasks";

interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
  fl: FlMarket;
  onConnect(): void;
}

export function FlSection(p: Props) {
  const view = useFlView();
  if (view.page === "task") return <FlTaskPage id={view.id} wallet={p.wallet} chainOk={p.chainOk} tokens={p.tokens} fl={p.fl} />;
  if (view.page === "predict") return <FlPredictPage id={view.id} wallet={p.wallet} chainOk={p.chainOk} tokens={p.tokens} fl={p.fl} onConnect={p.onConnect} />;
  return <FlTasksPage {...p} />;
}
