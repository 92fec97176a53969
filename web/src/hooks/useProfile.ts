// My profile as the profile page edits it: the public profile (name and avatar, readable by anyone),
// and with a session my e-mail address and its verification, and my notification preferences.
// Each save answers with what the node now holds, which replaces what the page shows.
import { useCallback, useEffect, useState } from "react";
import { api } from "../lib/api";
import { socialApi, type EmailState, type Level, type Pref, type Profile, withPref } from "../lib/social";
import { errorText } from "../lib/wallet";

export function useProfile(address: string | null, signedIn: boolean) {
  const [profile, setProfile] = useState<Profile | null>(null);
  const [email, setEmail] = useState<EmailState | null>(null);
  const [prefs, setPrefs] = useState<Pref[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setProfile(null);
    if (!address) return;
    let cancelled = false;
    socialApi.profile(address).then(
      (p) => !cancelled && setProfile(p),
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [address]);

  useEffect(() => {
    setEmail(null);
    setPrefs(null);
    if (!address || !signedIn) return;
    let cancelled = false;
    Promise.all([socialApi.email(), socialApi.prefs()]).then(
      ([e, p]) => {
        if (cancelled) return;
        setEmail(e);
        setPrefs(p);
      },
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [address, signedIn]);

  /// Saves the name and avatar (both whole: empty clears); throws the node's refusal.
  const saveProfile = useCallback(async (displayName: string, avatar: string | null) => {
    const name = displayName.trim();
    setProfile(await socialApi.saveProfile({ displayName: name === "" ? null : name, avatar }));
  }, []);

  /// Puts an image in the node's content store; its CID.
  const uploadAvatar = useCallback(async (file: Blob) => (await api.upload(file)).cid, []);

  /// Sets the address (the node mails a link) — or, for the same address, sends the link again.
  const saveEmail = useCallback(async (address: string) => {
    setEmail(await socialApi.setEmail(address));
  }, []);

  /// One scope's level (null: follow the default), saved at once.
  const setLevel = useCallback(
    async (scope: string, level: Level | null) => {
      const current = prefs ?? (await socialApi.prefs());
      setPrefs(await socialApi.savePrefs(withPref(current, scope, level)));
    },
    [prefs],
  );

  return { profile, email, prefs, error, saveProfile, uploadAvatar, saveEmail, setLevel };
}
