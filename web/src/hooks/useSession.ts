// Sign-in with Ethereum (EIP-4361): the session the node holds behind an HttpOnly cookie, read at
// start, opened by a signed message and closed on request (or when the node answers 401).
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, type NetworkInfo, type Session } from "../lib/api";
import { buildSignInMessage } from "../lib/siwe";
import { errorText, isUserRejection, walletClientFor, type Wallet } from "../lib/wallet";
import { useI18n } from "../i18n-context";

/// The session belongs to the wallet shown (addresses compared without case).
export function isSignedIn(session: Session | null, address: string | null): boolean {
  return session != null && address != null && session.address.toLowerCase() === address.toLowerCase();
}

export function useSession(net: NetworkInfo | null, wallet: Wallet | null) {
  const { t } = useI18n();
  const [session, setSession] = useState<Session | null>(null);
  const [authError, setAuthError] = useState<string | null>(null);
  const [authBusy, setAuthBusy] = useState(false);

  useEffect(() => {
    let cancelled = false;
    api.session().then(
      (s) => !cancelled && setSession(s),
      () => !cancelled && setSession(null),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const signIn = useCallback(async () => {
    if (!net || !wallet) return;
    setAuthError(null);
    setAuthBusy(true);
    try {
      const { nonce } = await api.nonce();
      const message = buildSignInMessage({
        address: wallet.address,
        chainId: net.chainId,
        nonce,
        domain: window.location.host,
        uri: window.location.origin,
        statement: t("auth.statement"),
      });
      const client = walletClientFor(wallet, net);
      const signature = await client.signMessage({ account: client.account!, message });
      setSession(await api.verify(message, signature));
    } catch (e) {
      if (isUserRejection(e)) setAuthError(t("auth.rejected"));
      else if (e instanceof ApiError) setAuthError(t("auth.failed", { message: e.message }));
      else setAuthError(t("auth.failed", { message: errorText(e) }));
    } finally {
      setAuthBusy(false);
    }
  }, [net, wallet, t]);

  const signOut = useCallback(async () => {
    setAuthError(null);
    try {
      await api.logout();
    } catch (e) {
      setAuthError(errorText(e));
    }
    setSession(null);
  }, []);

  /// The node no longer knows the session (it answered 401).
  const expire = useCallback(() => setSession(null), []);

  return {
    signedIn: isSignedIn(session, wallet?.address ?? null),
    authBusy,
    authError,
    signIn,
    signOut,
    expire,
  };
}
