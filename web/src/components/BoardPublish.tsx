// The publish form (`#/board/new`): the description (markdown, stored in the content store, its CID
// on chain), the community (optional; its arbiter decides disputes, its points may be promised), the
// reward's token (ETH, MarketToken, or the community's points while their transfers are on), the
// reward and the slots — the reward must be a multiple of the slots, and the form says so and
// offers the nearest values —, points per approved worker, the deadline, review window, work
// timeout and revisions. Then, in one flow: the token approved when the board's allowance is short,
// and publish; the page opens the new task.
import { useEffect, useId, useState, type FormEvent } from "react";
import type { Hex } from "viem";
import { api } from "../lib/api";
import { ETH_TOKEN } from "../lib/abi";
import { publishCall, taskIdFromReceipt } from "../lib/boardCalls";
import { boardAmount, checkReward, MAX_U96, pointsAmount, publishSteps, roundNearest, typedDecimals } from "../lib/boardRules";
import { boardHref } from "../lib/boardRoute";
import { allowanceOf, amountInputText, parseAmountInput } from "../lib/channels";
import { renderMarkdown } from "../lib/markdown";
import { errorText } from "../lib/wallet";
import type { BoardContext } from "../hooks/useBoard";
import { useChainFigures } from "../hooks/useCommunities";
import { useI18n } from "../i18n-context";
import { BoardTxStatus } from "./BoardCommon";

const HOUR = 3600;

export function BoardPublish({ ctx }: { ctx: BoardContext }) {
  const { t } = useI18n();
  const id = useId();
  const f = (k: string) => `${id}-${k}`;
  const [spec, setSpec] = useState("");
  const [community, setCommunity] = useState("");
  const [token, setToken] = useState<string>(ETH_TOKEN);
  const [reward, setReward] = useState("0.03");
  const [slots, setSlots] = useState("3");
  const [points, setPoints] = useState("0");
  const [deadlineHours, setDeadlineHours] = useState("72");
  const [reviewHours, setReviewHours] = useState("24");
  const [timeoutHours, setTimeoutHours] = useState("24");
  const [revisions, setRevisions] = useState("2");
  const [error, setError] = useState<string | null>(null);
  const [allowance, setAllowance] = useState<bigint | null>(null);

  const chosen = ctx.communities?.find((c) => String(c.id) === community) ?? null;
  const marketToken = ctx.net?.marketToken.toLowerCase() ?? null;
  const info = ctx.tokens[token.toLowerCase()];
  const decimals = info?.decimals ?? 18;
  const rewardValue = parseAmountInput(reward, decimals);
  const slotCount = Number(slots);
  const check = rewardValue === null ? null : checkReward(rewardValue, slotCount, ctx.config.maxSlots);
  const nearestValues = check && !check.ok && check.problem === "divisible" && rewardValue !== null ? roundNearest(rewardValue, slotCount, decimals, typedDecimals(reward)) : null;
  const steps = publishSteps(token, rewardValue ?? 0n, allowance);
  const isAdmin = !!chosen && !!ctx.me && (chosen.owner === ctx.me || chosen.admins.includes(ctx.me));
  const { run, fail, busy, tx } = ctx.tx;
  const { budget } = useChainFigures(ctx.net, ctx.config.communities, ctx.config.taskBoard, chosen, null, ctx.live.version);
  const pointsWanted = /^[0-9]+$/.test(points.trim()) && Number.isInteger(slotCount) && slotCount > 0 ? BigInt(points.trim()) * BigInt(slotCount) : 0n;

  // The board's allowance from me in the chosen token, to say whether an approval comes first.
  useEffect(() => {
    setAllowance(null);
    if (!ctx.net || !ctx.me || token === ETH_TOKEN) return;
    let cancelled = false;
    allowanceOf(ctx.net, token as Hex, ctx.me, ctx.config.taskBoard).then(
      (a) => !cancelled && setAllowance(a),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [ctx.net, ctx.me, token, ctx.config.taskBoard, ctx.live.version, tx?.phase]);

  // A points token belongs to its community: choosing another community takes the reward back to ETH.
  useEffect(() => {
    if (token !== ETH_TOKEN && token !== marketToken && token !== chosen?.pointsToken) setToken(ETH_TOKEN);
  }, [chosen, token, marketToken]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!spec.trim()) return setError(t("board.publish.noSpec"));
    if (!check || !check.ok) return setError(t("board.publish.badReward"));
    const pts = points.trim() === "" || points.trim() === "0" ? 0n : /^[0-9]+$/.test(points.trim()) ? BigInt(points.trim()) : null;
    if (pts === null || pts > MAX_U96 || (pts > 0n && !chosen)) return setError(t("board.publish.badPoints"));
    const hours = [deadlineHours, reviewHours, timeoutHours].map(Number);
    if (hours.some((h) => !Number.isFinite(h) || h <= 0)) return setError(t("board.publish.badHours"));
    const [dl, rw, wt] = hours.map((h) => Math.round(h * HOUR));
    if (dl > ctx.config.maxTaskDuration) return setError(t("board.publish.tooLong", { days: Math.floor(ctx.config.maxTaskDuration / 86400) }));
    if (rw > ctx.config.maxReviewWindow) return setError(t("board.publish.reviewTooLong", { days: Math.floor(ctx.config.maxReviewWindow / 86400) }));
    const maxRevisions = Number(revisions);
    if (!Number.isInteger(maxRevisions) || maxRevisions < 0 || maxRevisions > 255) return setError(t("board.publish.badRevisions"));
    let cid: string;
    try {
      cid = (await api.upload(new Blob([spec], { type: "text/markdown" }))).cid;
    } catch (err) {
      fail("publish", t("board.uploadFailed", { message: errorText(err) }));
      return;
    }
    const terms = {
      token: token as Hex,
      reward: rewardValue!,
      slots: slotCount,
      communityId: chosen?.id ?? 0,
      points: pts,
      deadline: ctx.now + dl,
      reviewWindow: rw,
      workTimeout: wt,
      maxRevisions,
      spec: cid,
    };
    const receipt = await run("publish", publishCall(ctx.config.taskBoard, terms), { token: terms.token, amount: terms.reward, spender: ctx.config.taskBoard });
    const taskId = receipt ? taskIdFromReceipt(ctx.config.taskBoard, receipt) : null;
    if (taskId !== null) window.location.hash = boardHref({ page: "task", id: taskId });
  };

  const nearest = (v: bigint) => (
    <button type="button" className="btn" onClick={() => setReward(amountInputText(v, decimals))} data-testid="board-nearest">
      {boardAmount(v, token, ctx.tokens)}
    </button>
  );

  return (
    <>
      <h1 id="board-title" tabIndex={-1}>
        {t("board.publish.title")}
      </h1>
      <form className="create-form panel" onSubmit={(e) => void submit(e)} data-testid="board-publish">
        <label htmlFor={f("spec")}>{t("board.publish.spec")}</label>
        <textarea id={f("spec")} rows={8} value={spec} onChange={(e) => setSpec(e.target.value)} aria-describedby={f("spec-hint")} data-testid="board-publish-spec" />
        <p id={f("spec-hint")} className="muted">
          {t("board.publish.specHint")}
        </p>
        {spec.trim() && (
          <details className="board-preview">
            <summary>{t("board.publish.preview")}</summary>
            <div className="markdown board-spec" data-testid="board-publish-preview">
              {renderMarkdown(spec)}
            </div>
          </details>
        )}
        <div className="inline-row">
          <div className="field">
            <label htmlFor={f("community")}>{t("board.community")}</label>
            <select id={f("community")} value={community} onChange={(e) => setCommunity(e.target.value)} data-testid="board-publish-community">
              <option value="">{t("board.noCommunity")}</option>
              {(ctx.communities ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={f("token")}>{t("board.publish.token")}</label>
            <select id={f("token")} value={token} onChange={(e) => setToken(e.target.value)} data-testid="board-publish-token">
              <option value={ETH_TOKEN}>ETH</option>
              {marketToken && <option value={marketToken}>{ctx.tokens[marketToken]?.symbol ?? "MarketToken"}</option>}
              {chosen && (
                <option value={chosen.pointsToken} disabled={!chosen.transfersEnabled}>
                  {chosen.transfersEnabled ? chosen.symbol : t("board.publish.pointsLocked", { symbol: chosen.symbol })}
                </option>
              )}
            </select>
          </div>
          <div className="field">
            <label htmlFor={f("reward")}>{t("board.publish.reward", { symbol: info?.symbol ?? "" })}</label>
            <input id={f("reward")} inputMode="decimal" value={reward} onChange={(e) => setReward(e.target.value)} aria-invalid={!!check && !check.ok} aria-describedby={f("reward-check")} data-testid="board-publish-reward" />
          </div>
          <div className="field">
            <label htmlFor={f("slots")}>{t("board.publish.slots")}</label>
            <input id={f("slots")} type="number" min={1} max={ctx.config.maxSlots} step={1} value={slots} onChange={(e) => setSlots(e.target.value)} data-testid="board-publish-slots" />
          </div>
        </div>
        <div id={f("reward-check")} aria-live="polite" data-testid="board-reward-check">
          {check?.ok && <p className="muted">{t("board.publish.perSlot", { amount: boardAmount(check.perSlot, token, ctx.tokens), slots: slotCount })}</p>}
          {check && !check.ok && check.problem === "divisible" && (
            <div className="notice notice-warn">
              <p>{t("board.publish.notDivisible", { slots: slotCount })}</p>
              <p className="inline-row">
                {t("board.publish.nearest")} {nearestValues?.below != null && nearest(nearestValues.below)} {nearestValues?.above != null && nearest(nearestValues.above)}
              </p>
            </div>
          )}
          {check && !check.ok && check.problem === "slots" && <p className="field-error">{t("board.publish.badSlots", { max: ctx.config.maxSlots })}</p>}
          {(rewardValue === null || (check && !check.ok && check.problem === "reward")) && <p className="field-error">{t("board.publish.badReward")}</p>}
        </div>
        {chosen && (
          <div className="field">
            <label htmlFor={f("points")}>{t("board.publish.points", { symbol: chosen.symbol })}</label>
            <input id={f("points")} type="number" min={0} step={1} value={points} onChange={(e) => setPoints(e.target.value)} aria-describedby={f("points-hint")} data-testid="board-publish-points" />
            <p id={f("points-hint")} className="muted">
              {isAdmin ? t("board.publish.pointsHint") : t("board.publish.pointsAdminOnly")}
            </p>
            {budget && pointsWanted > budget.allowance && (
              <p className="field-error" role="alert" data-testid="board-publish-budget">
                {t("board.publish.overBudget", { wanted: pointsAmount(pointsWanted, chosen.symbol), allowance: pointsAmount(budget.allowance, chosen.symbol) })}
              </p>
            )}
          </div>
        )}
        <div className="inline-row">
          {(
            [
              ["deadline", deadlineHours, setDeadlineHours],
              ["review", reviewHours, setReviewHours],
              ["timeout", timeoutHours, setTimeoutHours],
            ] as const
          ).map(([k, v, set]) => (
            <div className="field" key={k}>
              <label htmlFor={f(k)}>{t(`board.publish.${k}Hours`)}</label>
              <input id={f(k)} type="number" min={0} step="any" value={v} onChange={(e) => set(e.target.value)} data-testid={`board-publish-${k}`} />
            </div>
          ))}
          <div className="field">
            <label htmlFor={f("revisions")}>{t("board.maxRevisions")}</label>
            <input id={f("revisions")} type="number" min={0} max={255} step={1} value={revisions} onChange={(e) => setRevisions(e.target.value)} data-testid="board-publish-revisions" />
          </div>
        </div>
        <p className="muted">{t("board.publish.answerWindow", { hours: Math.round((ctx.config.answerWindow / HOUR) * 100) / 100 })}</p>
        <ol className="board-steps" aria-label={t("board.publish.steps")} data-testid="board-publish-steps">
          {steps.map((s) => (
            <li key={s} data-step={s}>
              {s === "approve" ? t("board.publish.stepApprove", { amount: rewardValue !== null ? boardAmount(rewardValue, token, ctx.tokens) : "" }) : t("board.publish.stepPublish")}
            </li>
          ))}
        </ol>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={!ctx.canAct || busy} data-testid="board-publish-submit">
          {steps.length > 1 ? t("board.publish.approveAndPublish") : t("board.publish.submit")}
        </button>
        <BoardTxStatus tx={tx} action="publish" />
      </form>
    </>
  );
}
