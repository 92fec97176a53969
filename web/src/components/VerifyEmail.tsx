// An e-mail verification link (`#/verify-email?token=…`, mailed by the node): the token is sent once
// (no session needed — the token is the proof), then the outcome: verified, or why not (already
// used, expired, replaced by a newer address, unknown) with the way forward.
import { useEffect, useRef, useState } from "react";
import { socialApi, verifyFailure, verifyTokenOf, type VerifyFailure } from "../lib/social";
import { errorText } from "../lib/wallet";
import { useI18n } from "../i18n-context";

type State = { kind: "checking" } | { kind: "done"; email: string } | { kind: "failed"; why: VerifyFailure; message: string } | { kind: "noToken" };

export function VerifyEmail() {
  const { t } = useI18n();
  const [token] = useState(() => verifyTokenOf(window.location.hash));
  const [state, setState] = useState<State>(() => (token ? { kind: "checking" } : { kind: "noToken" }));
  const sent = useRef(false);
  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    socialApi.verifyEmail(token).then(
      (r) => setState({ kind: "done", email: r.email }),
      (e: unknown) => setState({ kind: "failed", why: verifyFailure(e), message: errorText(e) }),
    );
  }, [token]);

  return (
    <section className="section" aria-labelledby="verify-title" data-testid="verify-email" data-state={state.kind}>
      <h1 id="verify-title" tabIndex={-1}>
        {t("verify.title")}
      </h1>
      {state.kind === "checking" && (
        <p className="muted" role="status">
          {t("verify.checking")}
        </p>
      )}
      {state.kind === "done" && (
        <p className="notice" role="status" data-testid="verify-done">
          ✓ {t("verify.done", { email: state.email })}
        </p>
      )}
      {state.kind === "failed" && (
        <p className="notice notice-error" role="alert" data-testid="verify-failed" data-why={state.why}>
          {state.why === "other" ? t("verify.failed.other", { message: state.message }) : t(`verify.failed.${state.why}`)}
        </p>
      )}
      {state.kind === "noToken" && (
        <p className="notice notice-error" role="alert" data-testid="verify-failed" data-why="unknown">
          {t("verify.noToken")}
        </p>
      )}
      <p>
        <a href="#/me">{t("verify.toProfile")}</a>
      </p>
    </section>
  );
}
