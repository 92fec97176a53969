// Sending a contract call the way the page always does: simulate through the node (a revert comes
// back as a sentence), ask the wallet, report the hash, wait for the receipt.
import { decodeEventLog, encodeFunctionData, type TransactionReceipt } from "viem";
import { api, type NetworkInfo, type Service } from "./api";
import { computeMarketAbi, ETH_TOKEN, marketTokenAbi } from "./abi";
import { publicClientFor, walletClientFor, type Wallet } from "./wallet";

export interface Call {
  to: `0x${string}`;
  data: `0x${string}`;
  value?: bigint;
}

export interface SendHooks {
  /// Simulation passed; the wallet is being asked.
  onPrompt?(): void;
  /// The wallet sent the transaction.
  onSent?(hash: `0x${string}`): void;
}

/// A mined transaction that reverted.
export class TxRevertedError extends Error {
  constructor(readonly hash: `0x${string}`) {
    super(`transaction ${hash} reverted`);
    this.name = "TxRevertedError";
  }
}

export async function simulate(wallet: Wallet, call: Call): Promise<void> {
  await api.simulate({
    from: wallet.address,
    to: call.to,
    data: call.data,
    value: call.value !== undefined ? call.value.toString() : undefined,
  });
}

export async function sendCall(net: NetworkInfo, wallet: Wallet, call: Call, hooks: SendHooks = {}): Promise<TransactionReceipt> {
  await simulate(wallet, call);
  hooks.onPrompt?.();
  const client = walletClientFor(wallet, net);
  const hash = await client.sendTransaction({
    account: client.account!,
    chain: client.chain,
    to: call.to,
    data: call.data,
    value: call.value ?? 0n,
  });
  hooks.onSent?.(hash);
  const receipt = await publicClientFor(net).waitForTransactionReceipt({ hash, timeout: 120_000 });
  if (receipt.status !== "success") throw new TxRevertedError(hash);
  return receipt;
}

export function buyCall(net: NetworkInfo, service: Service, input: string): Call {
  // The terms shown to the buyer: the market refuses the purchase (TermsChanged) if the provider changed them.
  const data = encodeFunctionData({
    abi: computeMarketAbi,
    functionName: "buyCompute",
    args: [BigInt(service.id), input, BigInt(service.price), BigInt(service.maxRunTime)],
  });
  const isEth = service.token.toLowerCase() === ETH_TOKEN;
  return { to: net.computeMarket, data, value: isEth ? BigInt(service.price) : 0n };
}

export function approveCall(token: `0x${string}`, spender: `0x${string}`, amount: bigint): Call {
  return { to: token, data: encodeFunctionData({ abi: marketTokenAbi, functionName: "approve", args: [spender, amount] }) };
}

export function refundCall(net: NetworkInfo, taskId: number): Call {
  return {
    to: net.computeMarket,
    data: encodeFunctionData({ abi: computeMarketAbi, functionName: "claimRefund", args: [BigInt(taskId)] }),
  };
}

/// The task id a `buyCompute` receipt created, from its `TaskCreated` log.
export function taskIdFromReceipt(net: NetworkInfo, receipt: TransactionReceipt): number {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== net.computeMarket.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: computeMarketAbi, data: log.data, topics: log.topics });
      if (ev.eventName === "TaskCreated") return Number(ev.args.taskId);
    } catch {
      // another event of the market
    }
  }
  throw new Error(`no TaskCreated event in transaction ${receipt.transactionHash}`);
}

/// The market's allowance from `owner` in `token`.
export async function allowance(net: NetworkInfo, token: `0x${string}`, owner: `0x${string}`): Promise<bigint> {
  return publicClientFor(net).readContract({
    address: token,
    abi: marketTokenAbi,
    functionName: "allowance",
    args: [owner, net.computeMarket],
  });
}
