// "Watch" on a community's page (signed in): watching a scope brings every event on it to the bell
// and by mail (the `watching` notification level); pressed again, the scope follows my default
// level. The preferences are read fresh before each change, so a change made elsewhere is kept.
import { useEffect, useState } from "react";
import { levelOf, socialApi, withPref } from "../lib/social";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";

export function WatchToggle({ scope, signedIn }: { scope: string; signedIn: boolean }) {
  const { t } = useI18n();
  const [watching, setWatching] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setWatching(null);
    if (!signedIn) return;
    let cancelled = false;
    socialApi.prefs().then(
      (prefs) => !cancelled && setWatching(levelOf(prefs, scope) === "watching"),
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [scope, signedIn]);
  if (!signedIn || watching === null) return error ? <span className="field-error">{error}</span> : null;
  const toggle = async () => {
    setBusy(true);
    try {
      const prefs = await socialApi.prefs();
      const next = await socialApi.savePrefs(withPref(prefs, scope, watching ? null : "watching"));
      setWatching(levelOf(next, scope) === "watching");
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn" aria-pressed={watching} disabled={busy} onClick={() => void toggle()} title={t("watch.hint")} data-testid="watch-toggle">
        {watching ? t("watch.on") : t("watch.off")}
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
