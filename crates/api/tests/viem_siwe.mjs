// Builds and signs a Sign-In with Ethereum message with viem, independently of Agora's Rust code.
// Usage: node viem_siwe.mjs <privateKey> <domain> <uri> <chainId> <nonce>; prints {message, signature, address}.
import { createSiweMessage, parseSiweMessage } from 'viem/siwe';
import { privateKeyToAccount } from 'viem/accounts';

const [key, domain, uri, chainId, nonce] = process.argv.slice(2);
const account = privateKeyToAccount(key);
const message = createSiweMessage({
  address: account.address,
  chainId: Number(chainId),
  domain,
  nonce,
  uri,
  version: '1',
  statement: 'Sign in to Agora.',
  issuedAt: new Date(),
  expirationTime: new Date(Date.now() + 5 * 60 * 1000),
});
// viem must read back what it wrote, or the test proves nothing about the format.
if (parseSiweMessage(message).nonce !== nonce) throw new Error('viem could not parse its own message');
const signature = await account.signMessage({ message });
process.stdout.write(JSON.stringify({ message, signature, address: account.address }));
