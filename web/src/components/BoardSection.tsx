// The community task market (`#/board…`, `#/communities`, `#/community/{id}`): the mall, a task's
// page, the publish form, my tasks, the communities and one community, as the hash says
// (lib/boardRoute.ts), sharing the board's configuration, the live events, the chain's clock and
// one transaction runner.
import { useCallback, useEffect, useMemo, useRef } from "react";
import "../board.css";
import type { Hex } from "viem";
import type { NetworkInfo } from "../lib/api";
import { boardHref, type BoardView } from "../lib/boardRoute";
import type { Tokens } from "../lib/services";
import type { Wallet } from "../lib/wallet";
import { useBoardConfig, useBoardLive, useBoardTx, useChainClock, type BoardContext } from "../hooks/useBoard";
import { useBoardView } from "../hooks/useBoardRoute";
import { useCommunities } from "../hooks/useCommunities";
import { useI18n } from "../i18n-context";
import { withPointsTokens } from "./BoardCommon";
import { BoardMall } from "./BoardMall";
import { BoardMine } from "./BoardMine";
import { BoardPublish } from "./BoardPublish";
import { BoardTaskPage } from "./BoardTaskPage";
import { CommunityList } from "./CommunityList";
import { CommunityPage } from "./CommunityPage";


interface Props {
  net: NetworkInfo | null;
  wallet: Wallet | null;
  chainOk: boolean;
  tokens: Tokens;
  /// SIWE: posting in a community's threads needs a session.
  signedIn: boolean;
  authBusy: boolean;
  onSignIn(): void;
  onConnect(): void;
  onBalancesChanged(): void;
}

export function BoardSection(p: Props) {
  const { t } = useI18n();
  const view = useBoardView();
  const cfg = useBoardConfig();
  const live = useBoardLive();
  const now = useChainClock(p.net, live.version);
  const { onBalancesChanged } = p;
  const { refresh } = live;
  // After our own transaction: re-read now, and twice more while the indexer catches up (its
  // event normally brings the change; this covers an event missed or a read the busy node failed).
  const later = useRef<ReturnType<typeof setTimeout>[]>([]);
  useEffect(() => () => later.current.forEach(clearTimeout), []);
  const afterTx = useCallback(() => {
    onBalancesChanged();
    refresh();
    later.current.forEach(clearTimeout);
    later.current = [1500, 5000].map((ms) => setTimeout(refresh, ms));
  }, [onBalancesChanged, refresh]);
  const tx = useBoardTx(p.net, p.wallet, p.chainOk, afterTx);
  const list = useCommunities(live, !!cfg.config);
  const tokens = useMemo(() => withPointsTokens(p.tokens, list.communities), [p.tokens, list.communities]);
  const me = (p.wallet?.address.toLowerCase() ?? null) as Hex | null;

  const ctx: BoardContext | null = cfg.config
    ? { net: p.net, config: cfg.config, me, canAct: !!p.wallet && p.chainOk, live, now, tx, tokens, communities: list.communities, reloadCommunities: list.reload, onConnect: p.onConnect, signedIn: p.signedIn, authBusy: p.authBusy, onSignIn: p.onSignIn }
    : null;

  return (
    <section className="section board" aria-labelledby="board-title" data-testid="board-section" data-page={view.page}>
      <nav className="board-nav" aria-label={t("board.nav")}>
        {(["mall", "new", "mine", "communities"] as const).map((page) => (
          <a key={page} href={boardHref({ page } as BoardView)} className="nav-link" aria-current={view.page === page ? "page" : undefined} data-testid={`board-nav-${page}`}>
            {t(`board.nav.${page}`)}
          </a>
        ))}
        <span className={`badge badge-${live.stream === "live" ? "ok" : "warn"}`} role="status" data-testid="board-stream">
          {t(`stream.${live.stream}`)}
        </span>
      </nav>
      {cfg.missing && (
        <>
          <h1 id="board-title" tabIndex={-1}>
            {t("board.title")}
          </h1>
          <p className="notice notice-warn" role="status">
            {t("board.notDeployed")}
          </p>
        </>
      )}
      {cfg.error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: cfg.error })}
        </p>
      )}
      {!ctx && !cfg.missing && !cfg.error && (
        <p className="muted" role="status">
          {t("fl.loading")}
        </p>
      )}
      {ctx && p.wallet === null && (view.page === "new" || view.page === "mine" || view.page === "community") && (
        <p className="notice">
          {t("board.connectFirst")}{" "}
          <button type="button" className="btn" onClick={p.onConnect}>
            {t("wallet.connect")}
          </button>
        </p>
      )}
      {ctx && view.page === "mall" && <BoardMall ctx={ctx} />}
      {ctx && view.page === "task" && <BoardTaskPage key={view.id} ctx={ctx} id={view.id} />}
      {ctx && view.page === "new" && <BoardPublish ctx={ctx} />}
      {ctx && view.page === "mine" && <BoardMine ctx={ctx} />}
      {ctx && view.page === "communities" && <CommunityList ctx={ctx} />}
      {ctx && view.page === "community" && <CommunityPage key={view.id} ctx={ctx} id={view.id} />}
    </section>
  );
}
