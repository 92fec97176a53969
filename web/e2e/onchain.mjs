// Purchases made straight on the dev chain from a test key, without a page: for browser tests that
// need a person to already hold a channel, a compute task or a data order, and test a page that
// only shows them. Each call waits for its receipt and returns the id its event names; all amounts
// are in ETH (no approval), wei as bigint.
import { readFileSync } from "node:fs";
import path from "node:path";
import { createPublicClient, createWalletClient, http, parseEventLogs } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { REPO } from "./lib.mjs";

const ETH = "0x0000000000000000000000000000000000000000";
const abiOf = (name) => JSON.parse(readFileSync(path.join(REPO, "crates/chain/artifacts", `${name}.json`), "utf8")).abi;
const randomAddress = () => privateKeyToAccount(generatePrivateKey()).address;

/// The calls `privateKey` can make on the contracts `network` (`/api/network`) names.
export function onChain(network, privateKey) {
  const chain = createPublicClient({ transport: http(network.rpcUrl) });
  const wallet = createWalletClient({ account: privateKeyToAccount(privateKey), transport: http(network.rpcUrl) });
  const abis = { channel: abiOf("PaymentChannel"), compute: abiOf("ComputeMarket"), data: abiOf("DataMarket") };

  /// Sends one call and returns the first `eventName` its receipt holds (or the receipt).
  async function send(address, abi, functionName, args, value, eventName) {
    const hash = await wallet.writeContract({ chain: null, address, abi, functionName, args, value });
    const receipt = await chain.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${functionName} reverted (${hash})`);
    return eventName ? parseEventLogs({ abi, eventName, logs: receipt.logs })[0].args : receipt;
  }
  const now = async () => (await chain.getBlock()).timestamp;

  return {
    /// An ETH channel to `payee` holding `deposit`, expiring in `seconds`; its id (lower case).
    async openChannel(payee, deposit, seconds = 3600n) {
      const args = [payee, ETH, deposit, (await now()) + seconds, generatePrivateKey(), randomAddress()];
      return (await send(network.paymentChannel, abis.channel, "open", args, deposit, "ChannelOpened")).channelId.toLowerCase();
    },
    /// A service priced `price` in ETH with `metadata` (its JSON inline); its id.
    async listService(metadata, price, maxRunTime = 60n) {
      const args = [ETH, price, maxRunTime, `data:application/json,${JSON.stringify(metadata)}`];
      return (await send(network.computeMarket, abis.compute, "listService", args, 0n, "ServiceListed")).serviceId;
    },
    /// Compute bought from service `serviceId` at its terms; the task's id.
    async buyCompute(serviceId, input, price, maxRunTime = 60n) {
      return Number((await send(network.computeMarket, abis.compute, "buyCompute", [serviceId, input, price, maxRunTime], price, "TaskCreated")).taskId);
    },
    /// Registers this key as a data seller (an endpoint nobody serves: orders only, no transfer).
    async registerSeller(endpoint = "http://127.0.0.1:9") {
      await send(network.dataMarket, abis.data, "register", [endpoint, randomAddress(), generatePrivateKey(), ""], 0n);
    },
    /// An escrowed ETH order of `totalBytes` from `seller` at `price`, running an hour; its id.
    async openOrder(seller, price, totalBytes) {
      const t = await now();
      const args = [seller, ETH, price, BigInt(totalBytes), t + 3600n, t, BigInt(`0x${generatePrivateKey().slice(2, 18)}`), randomAddress(), 0];
      return (await send(network.dataMarket, abis.data, "openOrder", args, price, "OrderOpened")).orderId.toLowerCase();
    },
  };
}
