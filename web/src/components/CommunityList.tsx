// The communities (`#/communities`): each with its members and points symbol, linking to its page;
// and the form that creates one (name, points symbol, a metadata URI, the arbiter of its tasks'
// disputes — the platform's by default), after which the page opens the new community.
import { useId, useState, type FormEvent } from "react";
import type { Hex } from "viem";
import { communityIdFromReceipt, createCommunityCall } from "../lib/boardCalls";
import { boardHref } from "../lib/boardRoute";
import { communityFormProblem } from "../lib/community";
import type { BoardContext } from "../hooks/useBoard";
import { useI18n } from "../i18n-context";
import { BoardTxStatus } from "./BoardCommon";

export function CommunityList({ ctx }: { ctx: BoardContext }) {
  const { t } = useI18n();
  return (
    <>
      <h1 id="board-title" tabIndex={-1}>
        {t("community.title")}
      </h1>
      <p className="lead">{t("community.lead")}</p>
      {ctx.me && <CreateCommunity ctx={ctx} />}
      {ctx.communities === null ? (
        <p className="muted" role="status">
          {t("fl.loading")}
        </p>
      ) : ctx.communities.length === 0 ? (
        <p className="muted">{t("community.none")}</p>
      ) : (
        <ul className="cards" data-testid="community-list">
          {ctx.communities.map((c) => (
            <li key={c.id} className="card" data-testid={`community-${c.id}`}>
              <h2 className="card-title">
                <a href={boardHref({ page: "community", id: c.id })}>{c.name}</a>
              </h2>
              <p>
                <span className="badge badge-info">{c.symbol}</span> <span className="muted">{t("community.members", { n: c.memberCount })}</span>
              </p>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CreateCommunity({ ctx }: { ctx: BoardContext }) {
  const { t } = useI18n();
  const id = useId();
  const f = (k: string) => `${id}-${k}`;
  const [name, setName] = useState("");
  const [symbol, setSymbol] = useState("");
  const [metadataUri, setMetadataUri] = useState("");
  const [arbiter, setArbiter] = useState<string>(ctx.config.platformArbiter);
  const [error, setError] = useState<string | null>(null);
  const { run, busy, tx } = ctx.tx;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const form = { name: name.trim(), symbol: symbol.trim(), metadataUri: metadataUri.trim(), arbiter: arbiter.trim() };
    const problem = communityFormProblem(form);
    if (problem) return setError(t(`community.problem.${problem}`));
    setError(null);
    const receipt = await run("community:create", createCommunityCall(ctx.config.communities, form.name, form.symbol, form.metadataUri, form.arbiter as Hex));
    if (!receipt) return;
    ctx.reloadCommunities();
    const created = communityIdFromReceipt(ctx.config.communities, receipt);
    if (created !== null) window.location.hash = boardHref({ page: "community", id: created });
  };

  return (
    <details className="panel" data-testid="community-create">
      <summary>{t("community.create")}</summary>
      <form className="create-form" onSubmit={(e) => void submit(e)}>
        <div className="inline-row">
          <div className="field">
            <label htmlFor={f("name")}>{t("community.name")}</label>
            <input id={f("name")} value={name} maxLength={64} onChange={(e) => setName(e.target.value)} data-testid="community-create-name" />
          </div>
          <div className="field">
            <label htmlFor={f("symbol")}>{t("community.symbol")}</label>
            <input id={f("symbol")} value={symbol} maxLength={16} onChange={(e) => setSymbol(e.target.value)} data-testid="community-create-symbol" />
          </div>
        </div>
        <div className="field">
          <label htmlFor={f("uri")}>{t("community.metadataUri")}</label>
          <input id={f("uri")} value={metadataUri} onChange={(e) => setMetadataUri(e.target.value)} data-testid="community-create-uri" />
        </div>
        <div className="field">
          <label htmlFor={f("arbiter")}>{t("community.arbiter")}</label>
          <input id={f("arbiter")} className="mono" value={arbiter} onChange={(e) => setArbiter(e.target.value)} aria-describedby={f("arbiter-hint")} data-testid="community-create-arbiter" />
          <p id={f("arbiter-hint")} className="muted">
            {t("community.arbiterHint")}
          </p>
        </div>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={!ctx.canAct || busy} data-testid="community-create-submit">
          {t("community.createSubmit")}
        </button>
        <BoardTxStatus tx={tx} action="community:create" />
      </form>
    </details>
  );
}
