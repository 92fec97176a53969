// Sign-In with Ethereum (EIP-4361): the message the wallet signs to open a session with the node.
// The node checks domain, URI, chain id and its own single-use nonce, so they must be exactly
// these values.
import { getAddress } from "viem";
import { createSiweMessage } from "viem/siwe";

export interface SignInParams {
  address: string;
  chainId: number;
  nonce: string;
  /// `location.host`.
  domain: string;
  /// `location.origin`.
  uri: string;
  statement?: string;
  now?: Date;
  /// How long the signed message may be used to sign in.
  validForMs?: number;
}

export function buildSignInMessage(p: SignInParams): string {
  const now = p.now ?? new Date();
  return createSiweMessage({
    address: getAddress(p.address),
    chainId: p.chainId,
    domain: p.domain,
    nonce: p.nonce,
    uri: p.uri,
    version: "1",
    issuedAt: now,
    expirationTime: new Date(now.getTime() + (p.validForMs ?? 10 * 60 * 1000)),
    statement: p.statement?.replace(/\n/g, " "),
  });
}
