// Wallets: any EIP-1193 provider the browser injects (MetaMask and the like), or — on the embedded
// dev chain only — one of the chain's public dev keys, signing in the page and sending through the
// node's RPC URL. Reads always go straight to the chain at `rpcUrl`.
import {
  BaseError,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  type Chain,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ApiError, type NetworkInfo } from "./api";

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

declare global {
  interface Window {
    ethereum?: Eip1193Provider;
  }
}

/// A wallet's native and market-token balances, in the smallest units.
export interface Balances {
  eth: bigint;
  token: bigint;
}

export type Wallet =
  | { kind: "injected"; address: `0x${string}`; provider: Eip1193Provider }
  | { kind: "dev"; address: `0x${string}`; account: PrivateKeyAccount; role: string };

export function agoraChain(net: NetworkInfo): Chain {
  return defineChain({
    id: net.chainId,
    name: net.embeddedChain ? "Agora dev chain" : `Agora (chain ${net.chainId})`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [net.rpcUrl] } },
  });
}

export function publicClientFor(net: NetworkInfo): PublicClient {
  return createPublicClient({ chain: agoraChain(net), transport: http(net.rpcUrl), pollingInterval: 250 });
}

export function walletClientFor(wallet: Wallet, net: NetworkInfo): WalletClient {
  const chain = agoraChain(net);
  if (wallet.kind === "dev") {
    return createWalletClient({ account: wallet.account, chain, transport: http(net.rpcUrl) });
  }
  return createWalletClient({ account: wallet.address, chain, transport: custom(wallet.provider) });
}

export function devWallet(privateKey: `0x${string}`, role: string): Wallet {
  const account = privateKeyToAccount(privateKey);
  return { kind: "dev", address: account.address, account, role };
}

/// The chain id a provider reports (`eth_chainId` answers hex).
export async function providerChainId(provider: Eip1193Provider): Promise<number> {
  const hex = await provider.request({ method: "eth_chainId" });
  return parseChainId(hex);
}

export function parseChainId(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string") {
    const n = value.startsWith("0x") ? parseInt(value, 16) : parseInt(value, 10);
    if (Number.isInteger(n)) return n;
  }
  throw new Error(`not a chain id: ${String(value)}`);
}

/// Asks the wallet to switch to the network's chain, adding it first when the wallet does not
/// know it (EIP-3085 error 4902, or -32603 wrapping it, as some wallets answer).
export async function switchToNetwork(provider: Eip1193Provider, net: NetworkInfo): Promise<void> {
  const chainId = `0x${net.chainId.toString(16)}`;
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (e) {
    const code = rpcErrorCode(e);
    if (code !== 4902 && code !== -32603) throw e;
    await provider.request({
      method: "wallet_addEthereumChain",
      params: [
        {
          chainId,
          chainName: agoraChain(net).name,
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          rpcUrls: [net.rpcUrl],
        },
      ],
    });
  }
}

/// The first numeric EIP-1193 / JSON-RPC `code` in an error or its causes.
export function rpcErrorCode(err: unknown): number | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 10; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/// The person said no in their wallet (EIP-1193 4001).
export function isUserRejection(err: unknown): boolean {
  if (rpcErrorCode(err) === 4001) return true;
  return err instanceof BaseError && err.walk((x) => (x as { name?: string }).name === "UserRejectedRequestError") != null;
}

/// One readable sentence for an error: the API's message, viem's short message, or the error's own.
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof BaseError) return err.shortMessage || err.message;
  if (err instanceof Error) return err.message;
  if (err && typeof err === "object" && typeof (err as { message?: unknown }).message === "string") {
    return (err as { message: string }).message;
  }
  return String(err);
}
