import { describe, expect, it } from "vitest";
import { getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { parseSiweMessage, verifySiweMessage, validateSiweMessage } from "viem/siwe";
import { createPublicClient, custom } from "viem";
import { buildSignInMessage } from "./siwe";

const NOW = new Date("2030-01-02T03:04:05.000Z");

describe("buildSignInMessage", () => {
  const address = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
  const message = buildSignInMessage({
    address,
    chainId: 31337,
    nonce: "n0nce12345abc",
    domain: "127.0.0.1:8080",
    uri: "http://127.0.0.1:8080",
    statement: "Sign in to Agora\nplease",
    now: NOW,
  });

  it("follows EIP-4361 with the page's domain, origin, chain and the server's nonce", () => {
    const lines = message.split("\n");
    expect(lines[0]).toBe("127.0.0.1:8080 wants you to sign in with your Ethereum account:");
    expect(lines[1]).toBe(getAddress(address));
    expect(message).toContain("\nURI: http://127.0.0.1:8080\n");
    expect(message).toContain("\nVersion: 1\n");
    expect(message).toContain("\nChain ID: 31337\n");
    expect(message).toContain("\nNonce: n0nce12345abc\n");
    expect(message).toContain("\nIssued At: 2030-01-02T03:04:05.000Z");
    expect(message).toContain("\nExpiration Time: 2030-01-02T03:14:05.000Z");
    expect(message).toContain("\nSign in to Agora please\n");
  });

  it("parses back to the same fields", () => {
    const parsed = parseSiweMessage(message);
    expect(parsed).toMatchObject({
      address: getAddress(address),
      chainId: 31337,
      domain: "127.0.0.1:8080",
      nonce: "n0nce12345abc",
      uri: "http://127.0.0.1:8080",
      version: "1",
    });
    expect(validateSiweMessage({ message: parsed, domain: "127.0.0.1:8080", nonce: "n0nce12345abc", time: NOW })).toBe(true);
    expect(validateSiweMessage({ message: parsed, domain: "evil.example", time: NOW })).toBe(false);
    expect(validateSiweMessage({ message: parsed, time: new Date(NOW.getTime() + 11 * 60 * 1000) })).toBe(false);
  });

  it("refuses a nonce that EIP-4361 does not allow", () => {
    expect(() =>
      buildSignInMessage({ address, chainId: 1, nonce: "short", domain: "a.b", uri: "http://a.b", now: NOW }),
    ).toThrow();
  });

  it("signs into a message an independent verifier accepts", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const msg = buildSignInMessage({
      address: account.address,
      chainId: 31337,
      nonce: "abcdefgh12345678",
      domain: "localhost:5173",
      uri: "http://localhost:5173",
      now: new Date(),
    });
    const signature = await account.signMessage({ message: msg });
    // A client with no chain behind it: an EOA signature must verify by ecrecover alone.
    const noChain = {
      request: async () => {
        throw new Error("no chain in this test");
      },
    };
    const offline = custom(noChain, { retryCount: 0 });
    const client = createPublicClient({ transport: offline });
    await expect(verifySiweMessage(client, { message: msg, signature, domain: "localhost:5173" })).resolves.toBe(true);
    await expect(verifySiweMessage(client, { message: msg, signature, domain: "other:1" })).resolves.toBe(false);
  });
});
