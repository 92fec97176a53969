// One community (`#/community/{id}`): its facts, my points balance (read from its points token),
// join or leave, its open tasks, the leaderboard (top 20), the members a page at a time, and the
// admin actions the viewer's role allows (lib/community.ts `communityRights`): add an admin and
// turn points transfers on or off (the owner), mint points for activity and give the task board a
// minting allowance so tasks can promise points (admins).
import { useId, useState } from "react";
import type { Hex } from "viem";
import { addAdminCall, joinCall, leaveCall, mintCall, setAllowanceCall, setTransfersCall } from "../lib/boardCalls";
import { pointsAmount, reasonBytes32 } from "../lib/boardRules";
import { boardHref } from "../lib/boardRoute";
import { communityRights, communityRole, type Community } from "../lib/community";
import { shortAddress } from "../lib/format";
import { safeHref } from "../lib/markdown";
import type { BoardContext } from "../hooks/useBoard";
import { useAccountBoard, useBoardTasks } from "../hooks/useBoardData";
import { MEMBERS_PAGE, useChainFigures, useCommunity } from "../hooks/useCommunities";
import { useI18n } from "../i18n-context";
import { BoardTxStatus, RewardText, TaskTitle, When } from "./BoardCommon";
import { CommunityThreads } from "./CommunityThreads";
import { WatchToggle } from "./WatchToggle";

const isAddress = (s: string) => /^0x[0-9a-fA-F]{40}$/.test(s.trim()) && !/^0x0{40}$/.test(s.trim());

export function CommunityPage({ ctx, id }: { ctx: BoardContext; id: number }) {
  const { t } = useI18n();
  const [page, setPage] = useState(0);
  const view = useCommunity(id, ctx.live, true, page);
  const account = useAccountBoard(ctx.me, ctx.live, !!ctx.me);
  const c = view.community;
  const figures = useChainFigures(ctx.net, ctx.config.communities, ctx.config.taskBoard, c, ctx.me, ctx.live.version);
  const tasks = useBoardTasks({ community: id, state: "open", limit: 10 }, ctx.live, true);
  const isMember = !!account.account?.communities.includes(id);
  const role = c ? communityRole(c, ctx.me, isMember) : "visitor";
  const rights = communityRights(role, ctx.canAct, isMember || role === "owner");
  const { run, busy, tx } = ctx.tx;
  const key = (k: string) => `community:${k}:${id}`;
  const members = view.members ?? [];

  return (
    <article aria-labelledby="board-title" data-testid="community-page" data-community={id}>
      <p>
        <a href={boardHref({ page: "communities" })}>← {t("community.back")}</a>
      </p>
      <h1 id="board-title" tabIndex={-1}>
        {c?.name ?? t("board.communityN", { id })}
      </h1>
      {view.error && (
        <p className="notice notice-error" role="alert">
          {t("error.load", { message: view.error })}
        </p>
      )}
      {!c && !view.error && (
        <p className="muted" role="status">
          {t("fl.loading")}
        </p>
      )}
      {c && (
        <>
          <p>
            <span className="badge badge-info">{t(`community.role.${role}`)}</span>
          </p>
          <CommunityFacts c={c} balance={figures.balance} me={ctx.me} />
          <div className="inline-row">
            {rights.join && (
              <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void run(key("join"), joinCall(ctx.config.communities, id))} data-testid="community-join">
                {t("community.join")}
              </button>
            )}
            {rights.leave && (
              <button type="button" className="btn" disabled={busy} onClick={() => void run(key("leave"), leaveCall(ctx.config.communities, id))} data-testid="community-leave">
                {t("community.leave")}
              </button>
            )}
            <a className="btn" href={boardHref({ page: "new" })}>
              {t("board.publish")}
            </a>
            <WatchToggle scope={`community:${id}`} signedIn={ctx.signedIn} />
          </div>
          <BoardTxStatus tx={tx} action={key("join")} />
          <BoardTxStatus tx={tx} action={key("leave")} />
          {(rights.mint || rights.manageAdmins) && <AdminPanel ctx={ctx} c={c} rights={rights} budget={figures.budget} />}
          <section className="panel" aria-labelledby="community-tasks-title">
            <h2 id="community-tasks-title">{t("community.tasks")}</h2>
            {(tasks.tasks ?? []).length === 0 ? (
              <p className="muted">{t("board.none")}</p>
            ) : (
              <ul>
                {(tasks.tasks ?? []).map((task) => (
                  <li key={task.id}>
                    <a href={boardHref({ page: "task", id: task.id })}>
                      <TaskTitle task={task} />
                    </a>{" "}
                    — <RewardText task={task} tokens={ctx.tokens} communities={ctx.communities} />
                  </li>
                ))}
              </ul>
            )}
          </section>
          <CommunityThreads communityId={id} version={ctx.live.version} now={ctx.now} connected={!!ctx.me} signedIn={ctx.signedIn} authBusy={ctx.authBusy} onSignIn={ctx.onSignIn} me={ctx.me} />
          <section className="panel" aria-labelledby="community-leaders-title" data-testid="community-leaderboard">
            <h2 id="community-leaders-title">{t("community.leaderboard")}</h2>
            {view.leaderboard.length === 0 ? (
              <p className="muted">{t("community.noPoints")}</p>
            ) : (
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">{t("community.account")}</th>
                      <th scope="col">{t("community.points")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {view.leaderboard.map((e, i) => (
                      <tr key={e.account}>
                        <td>{i + 1}</td>
                        <td className="mono" title={e.account}>
                          {shortAddress(e.account)} {e.account === ctx.me && <span className="badge badge-info">{t("board.you")}</span>}
                        </td>
                        <td>{pointsAmount(e.balance, c.symbol)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section className="panel" aria-labelledby="community-members-title" data-testid="community-members">
            <h2 id="community-members-title">{t("community.membersTitle", { n: c.memberCount })}</h2>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t("community.account")}</th>
                    <th scope="col">{t("community.joined")}</th>
                    <th scope="col">{t("community.points")}</th>
                  </tr>
                </thead>
                <tbody>
                  {members.slice(0, MEMBERS_PAGE).map((m) => (
                    <tr key={m.account}>
                      <td className="mono" title={m.account}>
                        {shortAddress(m.account)} {m.admin && <span className="badge badge-muted">{t("community.admin")}</span>}
                      </td>
                      <td>
                        <When at={m.joinedAt} now={ctx.now} />
                      </td>
                      <td>{pointsAmount(m.points, c.symbol)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav className="inline-row board-pager" aria-label={t("board.pages")}>
              <button type="button" className="btn" disabled={page === 0} onClick={() => setPage((n) => Math.max(0, n - 1))}>
                {t("board.prev")}
              </button>
              <span className="muted">{t("board.pageN", { n: page + 1 })}</span>
              <button type="button" className="btn" disabled={members.length <= MEMBERS_PAGE} onClick={() => setPage((n) => n + 1)}>
                {t("board.next")}
              </button>
            </nav>
          </section>
        </>
      )}
    </article>
  );
}

function CommunityFacts({ c, balance, me }: { c: Community; balance: bigint | null; me: Hex | null }) {
  const { t } = useI18n();
  return (
    <dl className="facts" data-testid="community-facts">
      {me && (
        <div>
          <dt>{t("community.myPoints")}</dt>
          <dd data-testid="community-my-points">{balance === null ? "…" : pointsAmount(balance, c.symbol)}</dd>
        </div>
      )}
      <div>
        <dt>{t("community.membersLabel")}</dt>
        <dd>{c.memberCount}</dd>
      </div>
      <div>
        <dt>{t("community.owner")}</dt>
        <dd className="mono" title={c.owner}>
          {shortAddress(c.owner)}
        </dd>
      </div>
      <div>
        <dt>{t("board.arbiter")}</dt>
        <dd className="mono" title={c.arbiter}>
          {shortAddress(c.arbiter)}
        </dd>
      </div>
      <div>
        <dt>{t("community.pointsToken")}</dt>
        <dd>
          {c.symbol}{" "}
          <span className="mono muted" title={c.pointsToken}>
            {shortAddress(c.pointsToken)}
          </span>
        </dd>
      </div>
      {c.metadataUri && (
        <div>
          <dt>{t("community.about")}</dt>
          <dd className="wrap">
            {safeHref(c.metadataUri) ? (
              <a href={safeHref(c.metadataUri)!} target="_blank" rel="noopener noreferrer">
                {c.metadataUri}
              </a>
            ) : (
              <code className="mono">{c.metadataUri}</code>
            )}
          </dd>
        </div>
      )}
      <div>
        <dt>{t("community.transfers")}</dt>
        <dd data-testid="community-transfers">{c.transfersEnabled ? t("community.transfersOn") : t("community.transfersOff")}</dd>
      </div>
    </dl>
  );
}

function AdminPanel({ ctx, c, rights, budget }: { ctx: BoardContext; c: Community; rights: ReturnType<typeof communityRights>; budget: { allowance: bigint; reserved: bigint } | null }) {
  const { t } = useI18n();
  const id = useId();
  const f = (k: string) => `${id}-${k}`;
  const [admin, setAdmin] = useState("");
  const [to, setTo] = useState("");
  const [amount, setAmount] = useState("10");
  const [reason, setReason] = useState("");
  const [allowance, setAllowance] = useState("1000");
  const { run, busy, tx } = ctx.tx;
  const cc = ctx.config.communities;
  const key = (k: string) => `community:${k}:${c.id}`;
  const amountOk = /^[1-9][0-9]*$/.test(amount.trim());
  const reasonHex = reasonBytes32(reason);
  const allowanceOk = /^[0-9]+$/.test(allowance.trim()) && BigInt(allowance.trim()) < 2n ** 128n;

  return (
    <section className="panel" aria-labelledby={f("title")} data-testid="community-admin">
      <h2 id={f("title")}>{t("community.adminTitle")}</h2>
      {rights.manageAdmins && (
        <form
          className="inline-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (isAddress(admin)) void run(key("admin"), addAdminCall(cc, c.id, admin.trim() as Hex)).then((r) => r && setAdmin(""));
          }}
        >
          <label htmlFor={f("admin")}>{t("community.addAdmin")}</label>
          <input id={f("admin")} className="mono" placeholder="0x…" value={admin} onChange={(e) => setAdmin(e.target.value)} data-testid="community-admin-address" />
          <button type="submit" className="btn" disabled={busy || !isAddress(admin)} data-testid="community-add-admin">
            {t("community.addAdminSubmit")}
          </button>
        </form>
      )}
      <BoardTxStatus tx={tx} action={key("admin")} />
      {rights.mint && (
        <form
          className="create-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (isAddress(to) && amountOk && reasonHex) void run(key("mint"), mintCall(cc, c.id, to.trim() as Hex, BigInt(amount.trim()), reasonHex));
          }}
        >
          <h3>{t("community.mint")}</h3>
          <div className="inline-row">
            <div className="field">
              <label htmlFor={f("to")}>{t("community.mintTo")}</label>
              <input id={f("to")} className="mono" placeholder="0x…" value={to} onChange={(e) => setTo(e.target.value)} data-testid="community-mint-to" />
            </div>
            <div className="field">
              <label htmlFor={f("amount")}>{t("community.mintAmount", { symbol: c.symbol })}</label>
              <input id={f("amount")} type="number" min={1} step={1} value={amount} onChange={(e) => setAmount(e.target.value)} data-testid="community-mint-amount" />
            </div>
            <div className="field">
              <label htmlFor={f("reason")}>{t("community.mintReason")}</label>
              <input id={f("reason")} value={reason} onChange={(e) => setReason(e.target.value)} aria-invalid={!reasonHex} data-testid="community-mint-reason" />
            </div>
          </div>
          {!reasonHex && <p className="field-error">{t("community.reasonTooLong")}</p>}
          <button type="submit" className="btn btn-primary" disabled={busy || !isAddress(to) || !amountOk || !reasonHex} data-testid="community-mint">
            {t("community.mintSubmit")}
          </button>
        </form>
      )}
      <BoardTxStatus tx={tx} action={key("mint")} />
      {rights.setTransfers && (
        <p className="inline-row">
          <button type="button" className="btn" disabled={busy} onClick={() => void run(key("transfers"), setTransfersCall(cc, c.id, !c.transfersEnabled))} data-testid="community-transfers-toggle">
            {c.transfersEnabled ? t("community.transfersTurnOff") : t("community.transfersTurnOn")}
          </button>
        </p>
      )}
      <BoardTxStatus tx={tx} action={key("transfers")} />
      {rights.setAllowance && (
        <form
          className="create-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (allowanceOk) void run(key("allowance"), setAllowanceCall(cc, c.id, ctx.config.taskBoard, BigInt(allowance.trim())));
          }}
        >
          <h3>{t("community.allowance")}</h3>
          <p className="muted" data-testid="community-budget">
            {budget ? t("community.budget", { allowance: pointsAmount(budget.allowance, c.symbol), reserved: pointsAmount(budget.reserved, c.symbol) }) : "…"}
          </p>
          <div className="inline-row">
            <label htmlFor={f("allowance")}>{t("community.allowanceNew", { symbol: c.symbol })}</label>
            <input id={f("allowance")} type="number" min={0} step={1} value={allowance} onChange={(e) => setAllowance(e.target.value)} data-testid="community-allowance" />
            <button type="submit" className="btn" disabled={busy || !allowanceOk} data-testid="community-allowance-submit">
              {t("community.allowanceSubmit")}
            </button>
          </div>
        </form>
      )}
      <BoardTxStatus tx={tx} action={key("allowance")} />
    </section>
  );
}
