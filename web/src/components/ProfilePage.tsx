// My profile in the profile page (`#/me`): the display name and avatar others see beside my posts
// (the avatar uploaded to the node's content store and previewed before saving), my e-mail address
// with its state (none; unverified — check your mail, send the link again; verified ✓), and my
// notification preferences. Editing needs a session; without one the page asks to sign in.
import { useEffect, useId, useState, type FormEvent } from "react";
import "../social.css";
import { ipfsUrl } from "../lib/api";
import { avatarProblem, emailLooksValid, MAX_NAME, nameProblem, saveErrorKey } from "../lib/social";
import { errorText } from "../lib/wallet";
import { useProfile } from "../hooks/useProfile";
import { useI18n } from "../i18n-context";
import { NotificationPrefs } from "./NotificationPrefs";
import { SignInFirst } from "./NotificationsPage";

interface Props {
  address: string;
  signedIn: boolean;
  authBusy: boolean;
  onSignIn(): void;
  onConnect(): void;
}

/// A save's failure in a sentence: the page's own text for the node's known refusals.
function useFailText() {
  const { tOr } = useI18n();
  return (e: unknown) => {
    const key = saveErrorKey(e);
    return key ? tOr(key, errorText(e)) : errorText(e);
  };
}

export function ProfileSection(p: Props) {
  const { t } = useI18n();
  const me = useProfile(p.address, p.signedIn);
  return (
    <>
      <section className="panel" aria-labelledby="profile-title" data-testid="profile">
        <h2 id="profile-title">{t("profile.title")}</h2>
        {me.error && (
          <p className="notice notice-error" role="alert">
            {t("error.load", { message: me.error })}
          </p>
        )}
        {!p.signedIn && <SignInFirst connected authBusy={p.authBusy} onSignIn={p.onSignIn} onConnect={p.onConnect} text={t("profile.signIn")} />}
        {me.profile && <ProfileForm key={me.profile.address} me={me} editable={p.signedIn} />}
        {p.signedIn && me.email && <EmailForm me={me} />}
      </section>
      {p.signedIn && me.prefs && <NotificationPrefs prefs={me.prefs} onSetLevel={me.setLevel} />}
    </>
  );
}

type Me = ReturnType<typeof useProfile>;

function ProfileForm({ me, editable }: { me: Me; editable: boolean }) {
  const { t } = useI18n();
  const id = useId();
  const failText = useFailText();
  const profile = me.profile!;
  const [name, setName] = useState(profile.displayName ?? "");
  const [avatar, setAvatar] = useState<string | null>(profile.avatar);
  const [preview, setPreview] = useState<string | null>(null);
  const [busy, setBusy] = useState<"upload" | "save" | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => () => void (preview && URL.revokeObjectURL(preview)), [preview]);
  const problem = nameProblem(name);
  const shown = preview ?? (avatar ? ipfsUrl(avatar) : null);

  const pick = async (file: File | undefined) => {
    if (!file) return;
    const bad = avatarProblem(file);
    if (bad) return setMessage({ ok: false, text: t(`profile.avatar.${bad}`) });
    setBusy("upload");
    setMessage(null);
    try {
      const cid = await me.uploadAvatar(file);
      setAvatar(cid);
      setPreview(URL.createObjectURL(file));
    } catch (e) {
      setMessage({ ok: false, text: failText(e) });
    } finally {
      setBusy(null);
    }
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    setBusy("save");
    try {
      await me.saveProfile(name, avatar);
      setMessage({ ok: true, text: t("profile.saved") });
    } catch (err) {
      setMessage({ ok: false, text: failText(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <form className="create-form profile-form" onSubmit={(e) => void save(e)}>
      <div className="profile-avatar">
        {shown ? <img src={shown} alt={t("profile.avatar.alt")} width={72} height={72} data-testid="profile-avatar" /> : <span className="profile-avatar-none" aria-hidden="true">{(name.trim() || "?").slice(0, 1).toUpperCase()}</span>}
        {editable && (
          <div className="field">
            <label htmlFor={`${id}-avatar`}>{t("profile.avatar.label")}</label>
            <input id={`${id}-avatar`} type="file" accept="image/png,image/jpeg,image/gif" disabled={busy !== null} onChange={(e) => void pick(e.target.files?.[0])} data-testid="profile-avatar-file" />
            <p className="hint">{t("profile.avatar.hint")}</p>
            {avatar && (
              <button type="button" className="link-button" onClick={() => { setAvatar(null); setPreview(null); }}>
                {t("profile.avatar.remove")}
              </button>
            )}
          </div>
        )}
      </div>
      <label htmlFor={`${id}-name`}>{t("profile.name")}</label>
      <input id={`${id}-name`} value={name} maxLength={MAX_NAME * 2} readOnly={!editable} onChange={(e) => setName(e.target.value)} aria-invalid={problem !== null} data-testid="profile-name" />
      {problem && <p className="field-error">{t(`profile.problem.${problem}`)}</p>}
      {editable && (
        <button type="submit" className="btn btn-primary" disabled={busy !== null || problem !== null} data-testid="profile-save">
          {busy === "upload" ? t("profile.uploading") : busy === "save" ? t("profile.saving") : t("profile.save")}
        </button>
      )}
      {message && (
        <p className={message.ok ? "notice" : "field-error"} role={message.ok ? "status" : "alert"} data-testid="profile-message">
          {message.text}
        </p>
      )}
    </form>
  );
}

function EmailForm({ me }: { me: Me }) {
  const { t } = useI18n();
  const id = useId();
  const failText = useFailText();
  const email = me.email!;
  const [editing, setEditing] = useState(!email.email);
  const [value, setValue] = useState(email.email ?? "");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const send = async (address: string, sentText: string) => {
    setBusy(true);
    setMessage(null);
    try {
      await me.saveEmail(address);
      setEditing(false);
      setMessage({ ok: true, text: sentText });
    } catch (e) {
      setMessage({ ok: false, text: failText(e) });
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (emailLooksValid(value)) void send(value, t("profile.email.sent", { email: value.trim() }));
  };

  return (
    <div className="profile-email" data-testid="profile-email" data-state={!email.email ? "none" : email.verified ? "verified" : "unverified"}>
      <h3>{t("profile.email.title")}</h3>
      {email.email && !editing && (
        <p>
          <span className="mono wrap">{email.email}</span>{" "}
          {email.verified ? (
            <span className="badge badge-ok" data-testid="email-verified">✓ {t("profile.email.verified")}</span>
          ) : (
            <span className="badge badge-warn" data-testid="email-unverified">{t("profile.email.unverified")}</span>
          )}
        </p>
      )}
      {email.email && !email.verified && !editing && (
        <p className="notice">
          {t("profile.email.check", { email: email.email })}{" "}
          <button type="button" className="btn" disabled={busy} onClick={() => void send(email.email!, t("profile.email.resent"))} data-testid="email-resend">
            {t("profile.email.resend")}
          </button>
        </p>
      )}
      {!editing && (
        <button type="button" className="btn" onClick={() => setEditing(true)} data-testid="email-change">
          {t("profile.email.change")}
        </button>
      )}
      {editing && (
        <form className="inline-row" onSubmit={submit}>
          <label htmlFor={`${id}-email`}>{t("profile.email.label")}</label>
          <input id={`${id}-email`} type="email" autoComplete="email" value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={value !== "" && !emailLooksValid(value)} data-testid="email-input" />
          <button type="submit" className="btn btn-primary" disabled={busy || !emailLooksValid(value)} data-testid="email-save">
            {t("profile.email.save")}
          </button>
          {email.email && (
            <button type="button" className="btn" onClick={() => setEditing(false)}>
              {t("profile.cancel")}
            </button>
          )}
        </form>
      )}
      <p className="hint">{t("profile.email.hint")}</p>
      {message && (
        <p className={message.ok ? "notice" : "field-error"} role={message.ok ? "status" : "alert"} data-testid="email-message">
          {message.text}
        </p>
      )}
    </div>
  );
}
