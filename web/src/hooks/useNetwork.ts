// What the node says about the chain and the market: the network, the listed services, the dev
// accounts (embedded chain only), and the symbol and decimals of every token in use (read from the
// token contracts).
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, type DevAccount, type NetworkInfo, type Service } from "../lib/api";
import { ETH_TOKEN, marketTokenAbi } from "../lib/abi";
import { upsertService, type Tokens } from "../lib/services";
import { errorText, publicClientFor } from "../lib/wallet";
import { useI18n } from "../i18n-context";

export const INITIAL_TOKENS: Tokens = { [ETH_TOKEN]: { symbol: "ETH", decimals: 18 } };

/// Lower-case addresses of the ERC-20 tokens the market and its services use, sorted.
export function tokensInUse(net: NetworkInfo | null, services: readonly Service[] | null): string[] {
  const set = new Set<string>();
  if (net) set.add(net.marketToken.toLowerCase());
  for (const s of services ?? []) set.add(s.token.toLowerCase());
  set.delete(ETH_TOKEN);
  return [...set].sort();
}

export function useNetwork() {
  const { t } = useI18n();
  const [net, setNet] = useState<NetworkInfo | null>(null);
  const [services, setServices] = useState<Service[] | null>(null);
  const [devAccounts, setDevAccounts] = useState<DevAccount[] | null>(null);
  const [tokens, setTokens] = useState<Tokens>(INITIAL_TOKENS);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const [n, s] = await Promise.all([api.network(), api.services()]);
        if (cancelled) return;
        setNet(n);
        setServices(s);
        if (n.embeddedChain) {
          api.devAccounts().then(
            (a) => !cancelled && setDevAccounts(a),
            () => !cancelled && setDevAccounts(null),
          );
        }
      } catch (e) {
        if (!cancelled) setLoadError(errorText(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, []);

  const tokenAddresses = useMemo(() => tokensInUse(net, services), [net, services]);
  useEffect(() => {
    if (!net) return;
    const client = publicClientFor(net);
    for (const addr of tokenAddresses) {
      if (tokens[addr]) continue;
      const address = addr as `0x${string}`;
      Promise.all([
        client.readContract({ address, abi: marketTokenAbi, functionName: "symbol" }),
        client.readContract({ address, abi: marketTokenAbi, functionName: "decimals" }),
      ]).then(
        ([symbol, decimals]) => setTokens((prev) => ({ ...prev, [addr]: { symbol, decimals } })),
        (e) => setLoadError(t("error.chainRead", { message: errorText(e) })),
      );
    }
    // `tokens` is read only to skip known ones.
  }, [net, tokenAddresses, t]);

  /// A service as the event stream pushed it.
  const receiveService = useCallback((svc: Service) => setServices((prev) => upsertService(prev, svc)), []);

  /// Re-reads the services (after the stream reconnects); a failure keeps what is shown.
  const reloadServices = useCallback(() => {
    api.services().then(setServices, () => undefined);
  }, []);

  return { net, services, devAccounts, tokens, loadError, receiveService, reloadServices };
}
