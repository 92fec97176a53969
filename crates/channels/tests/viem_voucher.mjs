// Signs or verifies an Agora voucher with viem, the reference EIP-712 implementation the Rust side
// must match byte for byte.
//   node viem_voucher.mjs sign   <privateKey> <chainId> <contract> <channelId> <amount>
//      → {"signature": "0x…", "digest": "0x…", "address": "0x…"}
//   node viem_voucher.mjs verify <address> <chainId> <contract> <channelId> <amount> <signature>
//      → {"valid": true|false, "digest": "0x…"}
//   node viem_voucher.mjs bench  <vouchers.json>   (array of {chainId, contract, channelId, amount, signature})
//      → {"count": n, "seconds": s}  (recoverTypedDataAddress over every voucher)
import { readFileSync } from 'node:fs';
import { hashTypedData, recoverTypedDataAddress, verifyTypedData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const types = { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'cumulativeAmount', type: 'uint256' }] };
const typed = (chainId, contract, channelId, amount) => ({
  domain: { name: 'Agora PaymentChannel', version: '1', chainId: Number(chainId), verifyingContract: contract },
  types,
  primaryType: 'Voucher',
  message: { channelId, cumulativeAmount: BigInt(amount) },
});

const [mode, ...args] = process.argv.slice(2);
if (mode === 'sign') {
  const [key, chainId, contract, channelId, amount] = args;
  const account = privateKeyToAccount(key);
  const data = typed(chainId, contract, channelId, amount);
  const signature = await account.signTypedData(data);
  console.log(JSON.stringify({ signature, digest: hashTypedData(data), address: account.address }));
} else if (mode === 'verify') {
  const [address, chainId, contract, channelId, amount, signature] = args;
  const data = typed(chainId, contract, channelId, amount);
  const valid = await verifyTypedData({ address, signature, ...data });
  console.log(JSON.stringify({ valid, digest: hashTypedData(data) }));
} else if (mode === 'bench') {
  const vouchers = JSON.parse(readFileSync(args[0], 'utf8'));
  const start = process.hrtime.bigint();
  for (const v of vouchers) {
    await recoverTypedDataAddress({ signature: v.signature, ...typed(v.chainId, v.contract, v.channelId, v.amount) });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ count: vouchers.length, seconds }));
} else {
  console.error('usage: viem_voucher.mjs sign|verify|bench …');
  process.exit(2);
}
