// My notification preferences (in the profile page): the default level, then per community and
// per task a level — muted (nothing), normal (what concerns me; the mails that matter most),
// watching (every event on it, in the page and by mail) — or back to the default; and a scope added
// by its number. Each change is saved at once and the node's answer shown.
import { useId, useState } from "react";
import { boardHref } from "../lib/boardRoute";
import { groupPrefs, LEVELS, scopeOf, type Level, type Pref } from "../lib/social";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";

interface Props {
  prefs: Pref[];
  onSetLevel(scope: string, level: Level | null): Promise<void>;
}

export function NotificationPrefs({ prefs, onSetLevel }: Props) {
  const { t } = useI18n();
  const id = useId();
  const g = groupPrefs(prefs);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [kind, setKind] = useState<"community" | "task">("community");
  const [num, setNum] = useState("");
  const [level, setLevel] = useState<Level>("watching");
  const run = async (scope: string, l: Level | null) => {
    setBusy(true);
    try {
      await onSetLevel(scope, l);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const numOk = /^[0-9]{1,15}$/.test(num.trim());

  const rows = (k: "community" | "task", list: { id: number; level: Level }[]) =>
    list.length === 0 ? (
      <p className="muted">{t("prefs.noneOf")}</p>
    ) : (
      <ul className="prefs-list">
        {list.map((x) => {
          const scope = scopeOf(k, x.id);
          const label = t(k === "community" ? "prefs.communityN" : "prefs.taskN", { id: x.id });
          return (
            <li key={scope} className="inline-row" data-testid={`pref-${k}-${x.id}`}>
              <a href={boardHref(k === "community" ? { page: "community", id: x.id } : { page: "task", id: x.id })}>{label}</a>
              <LevelSelect value={x.level} label={t("prefs.levelFor", { what: label })} disabled={busy} onChange={(l) => void run(scope, l)} />
              <button type="button" className="link-button" disabled={busy} onClick={() => void run(scope, null)} aria-label={t("prefs.removeNamed", { what: label })}>
                {t("prefs.remove")}
              </button>
            </li>
          );
        })}
      </ul>
    );

  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-testid="notification-prefs">
      <h2 id={`${id}-title`}>{t("prefs.title")}</h2>
      <p className="hint">{t("prefs.lead")}</p>
      <div className="inline-row">
        <span id={`${id}-default`}>{t("prefs.default")}</span>
        <LevelSelect value={g.default} label={t("prefs.default")} disabled={busy} onChange={(l) => void run("default", l)} testId="pref-default" />
      </div>
      <h3>{t("prefs.communities")}</h3>
      {rows("community", g.communities)}
      <h3>{t("prefs.tasks")}</h3>
      {rows("task", g.tasks)}
      <form
        className="inline-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (numOk) void run(scopeOf(kind, Number(num.trim())), level).then(() => setNum(""));
        }}
      >
        <label htmlFor={`${id}-kind`}>{t("prefs.add")}</label>
        <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as "community" | "task")}>
          <option value="community">{t("prefs.kind.community")}</option>
          <option value="task">{t("prefs.kind.task")}</option>
        </select>
        <input type="number" min={0} step={1} value={num} onChange={(e) => setNum(e.target.value)} aria-label={t("prefs.number")} placeholder="#" />
        <LevelSelect value={level} label={t("prefs.level")} disabled={false} onChange={(l) => setLevel(l)} />
        <button type="submit" className="btn" disabled={busy || !numOk}>
          {t("prefs.addSubmit")}
        </button>
      </form>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export function LevelSelect({ value, label, disabled, onChange, testId }: { value: Level; label: string; disabled: boolean; onChange(l: Level): void; testId?: string }) {
  const { t } = useI18n();
  return (
    <select value={value} aria-label={label} disabled={disabled} onChange={(e) => onChange(e.target.value as Level)} data-testid={testId}>
      {LEVELS.map((l) => (
        <option key={l} value={l}>
          {t(`prefs.level.${l}`)}
        </option>
      ))}
    </select>
  );
}
