// The wallet: an injected EIP-1193 provider or (embedded chain only) a dev key in the page; its
// chain, followed through the provider's events; its ETH and market-token balances; the choice
// remembered and restored without a prompt on the next visit.
import { useCallback, useEffect, useRef, useState } from "react";
import { getAddress } from "viem";
import type { DevAccount, NetworkInfo } from "../lib/api";
import { marketTokenAbi } from "../lib/abi";
import { devChoice, recall, remember, restoreWallet, WALLET_KEY } from "../lib/remember";
import {
  devWallet,
  errorText,
  isUserRejection,
  parseChainId,
  providerChainId,
  publicClientFor,
  switchToNetwork,
  type Balances,
  type Wallet,
} from "../lib/wallet";
import { useI18n } from "../i18n-context";

/// The wallet can act on the network: a dev key always is on it; an injected one must report its chain.
export function onNetwork(wallet: Wallet | null, walletChainId: number | null, net: NetworkInfo | null): boolean {
  return wallet?.kind === "dev" || (net != null && walletChainId === net.chainId);
}

export function useWallet(net: NetworkInfo | null, devAccounts: DevAccount[] | null) {
  const { t } = useI18n();
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const [walletChainId, setWalletChainId] = useState<number | null>(null);
  const [walletError, setWalletError] = useState<string | null>(null);
  const [balances, setBalances] = useState<Balances | null>(null);
  const address = wallet?.address ?? null;
  const chainOk = onNetwork(wallet, walletChainId, net);

  const refreshBalances = useCallback(async () => {
    if (!net || !address) return;
    const client = publicClientFor(net);
    try {
      const [eth, token] = await Promise.all([
        client.getBalance({ address }),
        client.readContract({ address: net.marketToken, abi: marketTokenAbi, functionName: "balanceOf", args: [address] }),
      ]);
      setBalances({ eth, token });
    } catch (e) {
      setWalletError(t("error.chainRead", { message: errorText(e) }));
    }
  }, [net, address, t]);

  useEffect(() => {
    setBalances(null);
    void refreshBalances();
  }, [refreshBalances]);

  const connectInjected = useCallback(
    async (silent = false) => {
      setWalletError(null);
      const provider = window.ethereum;
      if (!provider) {
        if (!silent) setWalletError(t("wallet.noProvider"));
        return;
      }
      try {
        const accounts = (await provider.request({ method: silent ? "eth_accounts" : "eth_requestAccounts" })) as string[];
        if (!accounts?.length) {
          if (!silent) setWalletError(t("wallet.noAccounts"));
          return;
        }
        const chainId = await providerChainId(provider);
        setWallet({ kind: "injected", address: getAddress(accounts[0]), provider });
        setWalletChainId(chainId);
        remember(WALLET_KEY, "injected");
      } catch (e) {
        if (!silent) setWalletError(isUserRejection(e) ? t("wallet.connectRejected") : errorText(e));
      }
    },
    [t],
  );

  const chooseDevAccount = useCallback(
    (acct: DevAccount) => {
      setWalletError(null);
      setWallet(devWallet(acct.privateKey, acct.role));
      setWalletChainId(net?.chainId ?? null);
      remember(WALLET_KEY, devChoice(acct));
    },
    [net],
  );

  const disconnect = useCallback(() => {
    setWallet(null);
    setWalletChainId(null);
    remember(WALLET_KEY, null);
  }, []);

  // Reconnect the wallet used last time, without prompting.
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current || !net) return;
    const action = restoreWallet(recall(WALLET_KEY), net.embeddedChain, devAccounts);
    if (action.do === "wait") return;
    restored.current = true;
    if (action.do === "injected") void connectInjected(true);
    else if (action.do === "forget") remember(WALLET_KEY, null);
    else if (action.do === "dev") chooseDevAccount(action.account);
  }, [net, devAccounts, connectInjected, chooseDevAccount]);

  // Follow the injected wallet's account and chain.
  useEffect(() => {
    if (wallet?.kind !== "injected") return;
    const provider = wallet.provider;
    const onAccounts = (...args: unknown[]) => {
      const accounts = args[0] as string[] | undefined;
      if (!accounts?.length) disconnect();
      else setWallet({ kind: "injected", address: getAddress(accounts[0]), provider });
    };
    const onChain = (...args: unknown[]) => {
      try {
        setWalletChainId(parseChainId(args[0]));
      } catch {
        // a malformed event: keep the chain we knew
      }
    };
    provider.on?.("accountsChanged", onAccounts);
    provider.on?.("chainChanged", onChain);
    return () => {
      provider.removeListener?.("accountsChanged", onAccounts);
      provider.removeListener?.("chainChanged", onChain);
    };
  }, [wallet, disconnect]);

  const switchNetwork = useCallback(async () => {
    if (!net || wallet?.kind !== "injected") return;
    setWalletError(null);
    try {
      await switchToNetwork(wallet.provider, net);
      setWalletChainId(await providerChainId(wallet.provider));
    } catch (e) {
      setWalletError(isUserRejection(e) ? t("wallet.switchRejected") : t("wallet.switchFailed", { message: errorText(e) }));
    }
  }, [net, wallet, t]);

  return {
    wallet,
    walletChainId,
    chainOk,
    balances,
    walletError,
    refreshBalances,
    connectInjected,
    chooseDevAccount,
    disconnect,
    switchNetwork,
  };
}
