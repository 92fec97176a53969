/// <reference types="node" />
// The browser buyer against docs/data-stream-protocol.md: every test vector in the document (read
// from the file, as crates/datastream/tests/datastream/vectors.rs does) reproduced byte for byte —
// type hashes, hashStructs, signed digests, signatures, envelopes, the order id, the ACK's domain,
// digest and signature, and a data frame's bytes — then whole transfers against a seller written
// here from the same primitives: a purchase, stop, resume, and each refusal.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hashDomain, hashMessage, hashStruct, keccak256, toBytes, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  ACK_TYPES,
  BuyerSession,
  DataStreamError,
  FrameQueue,
  ItemBuffer,
  STRUCT_OF,
  ackDigest,
  commentHash,
  decodeFrame,
  decodeMessage,
  digestOf,
  encodeFrame,
  encodeMessage,
  encodeType,
  envelopeJson,
  orderIdEncoding,
  orderIdOf,
  paidFor,
  sha256Hex,
  signAck,
  signatureProblem,
  websocketUrl,
  type FrameConn,
  type Item,
  type MarketRef,
  type Message,
  type Order,
  type SignedAck,
} from "./datastream";

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../docs/data-stream-protocol.md");

interface Vectors {
  keys: Record<"seller" | "buyer" | "ack_signer", { address: Hex; private_key: Hex }>;
  market: { address: Hex; chain_id: number };
  order_id: { abi_encoded: Hex; buyer: Hex; nonce: string; order_id: Hex; seller: Hex; started_from: number };
  ack: {
    digest: Hex;
    domain: { chain_id: number; name: string; verifying_contract: Hex; version: string };
    domain_separator: Hex;
    hash_struct: Hex;
    order_id: Hex;
    received: number;
    signature: Hex;
    signer: Hex;
    type: string;
    type_hash: Hex;
  };
  messages: {
    name: string;
    type: string;
    type_hash: Hex;
    hash_struct: Hex;
    signed_digest: Hex;
    signer: Hex;
    envelope: { message_type: string; payload: unknown; signature: Hex; verification: string };
    body_hex?: Hex;
  }[];
}

function vectors(): Vectors {
  const doc = readFileSync(DOC, "utf8");
  const begin = "<!-- vectors:begin -->\n```json\n";
  const start = doc.indexOf(begin);
  const end = doc.indexOf("```\n<!-- vectors:end -->");
  if (start < 0 || end < start) throw new Error("no vectors block in docs/data-stream-protocol.md");
  return JSON.parse(doc.slice(start + begin.length, end)) as Vectors;
}

const V = vectors();
const MARKET: MarketRef = { chainId: V.market.chain_id, address: V.market.address };
const keyOf = (addr: string) => Object.values(V.keys).find((k) => k.address === addr.toLowerCase())!.private_key;
const bytesOf = (hex: Hex | undefined) => (hex ? toBytes(hex) : new Uint8Array());
const enc = (s: string) => new TextEncoder().encode(s);

describe("the document's test vectors", () => {
  it("has the eight messages the Rust side writes", () => {
    expect(V.messages.map((m) => m.name)).toEqual(["hello", "menu", "order", "data", "ack", "hello (resume)", "exit", "error"]);
  });

  for (const v of V.messages) {
    it(`${v.name}: type, type hash, hashStruct, digest, signer, signature and envelope`, async () => {
      const header = enc(JSON.stringify(v.envelope));
      const got = await decodeMessage(header, bytesOf(v.body_hex));
      const m = got.message;
      expect(m.type).toBe(v.envelope.message_type);
      expect(encodeType(STRUCT_OF[m.type])).toBe(v.type);
      expect(keccak256(toBytes(encodeType(STRUCT_OF[m.type])))).toBe(v.type_hash);
      expect(digestOf(m)).toBe(v.hash_struct);
      expect(hashMessage({ raw: v.hash_struct })).toBe(v.signed_digest);
      expect(got.signer).toBe(v.signer);
      // Signing again with the signer's key gives the same bytes (RFC 6979) and the same envelope.
      const again = await encodeMessage(m, keyOf(v.signer));
      expect(JSON.parse(again)).toEqual(v.envelope);
      expect(JSON.parse(again).signature).toBe(v.envelope.signature);
    });
  }

  it("the order id from its ABI encoding", () => {
    const o = V.order_id;
    const encoding = orderIdEncoding(MARKET, o.buyer, o.seller, o.started_from, BigInt(o.nonce));
    expect(encoding).toBe(o.abi_encoded);
    expect(orderIdOf(MARKET, o.buyer, o.seller, o.started_from, BigInt(o.nonce))).toBe(o.order_id);
  });

  it("the ACK: domain separator, type hash, hashStruct, digest and the session key's signature", async () => {
    const a = V.ack;
    expect(a.domain).toEqual({ chain_id: MARKET.chainId, name: "Agora DataMarket", verifying_contract: MARKET.address, version: "1" });
    const domain = { name: a.domain.name, version: a.domain.version, chainId: a.domain.chain_id, verifyingContract: a.domain.verifying_contract };
    const domainTypes = {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
    };
    expect(hashDomain({ domain, types: domainTypes })).toBe(a.domain_separator);
    expect(a.type).toBe("Ack(bytes32 orderId,uint64 received)");
    expect(keccak256(toBytes(a.type))).toBe(a.type_hash);
    expect(hashStruct({ data: { orderId: a.order_id, received: BigInt(a.received) }, primaryType: "Ack", types: ACK_TYPES })).toBe(a.hash_struct);
    expect(ackDigest(MARKET, a.order_id, a.received)).toBe(a.digest);
    const signed = await signAck(keyOf(a.signer), MARKET, a.order_id, a.received);
    expect(signed.signature).toBe(a.signature);
    // The ack message's voucher and the resuming hello's are this signature.
    expect(V.messages.find((m) => m.name === "ack")!.envelope.verification).toBe(a.signature);
    expect(V.messages.find((m) => m.name === "hello (resume)")!.envelope.verification).toBe(a.signature);
  });

  it("the data message's frame, byte for byte: lengths, the header as serde_json writes it, the body", async () => {
    const v = V.messages.find((m) => m.name === "data")!;
    const body = bytesOf(v.body_hex);
    const { message } = await decodeMessage(enc(JSON.stringify(v.envelope)), body);
    const header = await encodeMessage(message, keyOf(v.signer));
    const p = v.envelope.payload as { length: number; offset: number; order_id: string; sha256: string };
    // Written out by hand: the envelope's fields in declaration order, the payload's keys sorted.
    const expectedHeader =
      `{"message_type":"data","payload":{"length":${p.length},"offset":${p.offset},"order_id":"${p.order_id}",` +
      `"sha256":"${p.sha256}"},"signature":"${v.envelope.signature}","verification":""}`;
    expect(header).toBe(expectedHeader);
    const frame = encodeFrame(header, body);
    const h = enc(expectedHeader);
    const expected = new Uint8Array(8 + h.length + body.length);
    new DataView(expected.buffer).setUint32(0, 4 + h.length + body.length);
    new DataView(expected.buffer).setUint32(4, h.length);
    expected.set(h, 8);
    expected.set(body, 8 + h.length);
    expect(toHex(frame)).toBe(toHex(expected));
    expect(toHex(frame.slice(0, 8))).toBe(`0x${(4 + h.length + body.length).toString(16).padStart(8, "0")}${h.length.toString(16).padStart(8, "0")}`);
    const split = decodeFrame(frame);
    expect(new TextDecoder().decode(split.header)).toBe(expectedHeader);
    expect(toHex(split.body)).toBe(v.body_hex);
    expect(await sha256Hex(body)).toBe(p.sha256);
  });
});

describe("frames and envelopes refused", () => {
  const v = V.messages.find((m) => m.name === "data")!;
  const header = enc(JSON.stringify(v.envelope));
  const body = bytesOf(v.body_hex);

  it("a frame over the limits, from its first eight bytes", () => {
    const big = new Uint8Array(8);
    new DataView(big.buffer).setUint32(0, 9 * 1024 * 1024);
    expect(() => decodeFrame(big)).toThrow(expect.objectContaining({ code: "frame_too_large" }));
    const bigHeader = new Uint8Array(8);
    new DataView(bigHeader.buffer).setUint32(0, 300 * 1024);
    new DataView(bigHeader.buffer).setUint32(4, 257 * 1024);
    expect(() => decodeFrame(bigHeader)).toThrow(expect.objectContaining({ code: "frame_too_large" }));
  });

  it("lengths that do not add up, an empty header, a short message", () => {
    const f = encodeFrame(header, body);
    new DataView(f.buffer).setUint32(4, f.length);
    expect(() => decodeFrame(f)).toThrow(expect.objectContaining({ code: "malformed" }));
    expect(() => decodeFrame(encodeFrame(new Uint8Array()))).toThrow(/empty header/);
    expect(() => decodeFrame(encodeFrame(header, body).slice(0, 20))).toThrow(expect.objectContaining({ code: "malformed" }));
    const tiny = new Uint8Array(8);
    new DataView(tiny.buffer).setUint32(0, 3);
    expect(() => decodeFrame(tiny)).toThrow(/cannot hold/);
  });

  it("an unknown field, a wrong body length, a body on a message without one, an unknown type", async () => {
    const extra = { ...v.envelope, payload: { ...(v.envelope.payload as object), extra: 1 } };
    await expect(decodeMessage(enc(JSON.stringify(extra)), body)).rejects.toMatchObject({ code: "malformed", message: expect.stringMatching(/unknown field extra/) });
    await expect(decodeMessage(header, body.slice(1))).rejects.toMatchObject({ code: "malformed" });
    const ack = V.messages.find((m) => m.name === "ack")!;
    await expect(decodeMessage(enc(JSON.stringify(ack.envelope)), body)).rejects.toMatchObject({ code: "malformed" });
    await expect(decodeMessage(enc(JSON.stringify({ ...v.envelope, message_type: "gossip" })), body)).rejects.toMatchObject({ code: "malformed" });
    await expect(decodeMessage(enc("not json"), body)).rejects.toMatchObject({ code: "malformed" });
  });

  it("a high-s signature and one of the wrong length", async () => {
    const sig = v.envelope.signature;
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const flipped = `${sig.slice(0, 66)}${(n - s).toString(16).padStart(64, "0")}${sig.slice(130, 132) === "1b" ? "1c" : "1b"}` as Hex;
    expect(signatureProblem(flipped)).toBe("high s");
    await expect(decodeMessage(enc(JSON.stringify({ ...v.envelope, signature: flipped })), body)).rejects.toMatchObject({ code: "bad_signature" });
    await expect(decodeMessage(enc(JSON.stringify({ ...v.envelope, signature: sig.slice(0, 130) })), body)).rejects.toMatchObject({ code: "bad_signature" });
  });

  it("a tampered payload recovers to another signer", async () => {
    const p = { ...(v.envelope.payload as object), offset: 1 };
    const got = await decodeMessage(enc(JSON.stringify({ ...v.envelope, payload: p })), body);
    expect(got.signer).not.toBe(v.signer);
  });
});

// ---------------------------------------------------------------- transfers against a seller

const SELLER = V.keys.seller;
const BUYER = V.keys.buyer;
const SESSION = V.keys.ack_signer;
const STRANGER = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba" as Hex; // anvil account 9

/// Deterministic bytes (xorshift), as the Rust tests make them.
function content(len: number): Uint8Array {
  let x = 0x9e3779b97f4a7c15n;
  const out = new Uint8Array(len);
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < len; i++) {
    x ^= (x << 13n) & mask;
    x ^= x >> 7n;
    x ^= (x << 17n) & mask;
    out[i] = Number(x & 0xffn);
  }
  return out;
}

interface SellerScript {
  bytes: Uint8Array;
  chunkSize: number;
  /// Bytes the seller may send beyond the highest ACK.
  window?: number;
  /// The key that signs the seller's messages (default: the seller's).
  key?: Hex;
  /// Changes a chunk's body after it was hashed and signed.
  tamper?(offset: number, body: Uint8Array): void;
  /// Answers the order with this `error` instead of data.
  refuse?: { code: string; message: string };
}

/// A seller in memory, from the same primitives: hello → menu, order → chunks within its window,
/// ACKs checked against the order's ACK signer, exit answered. Returns the buyer's end.
function fakeSeller(script: SellerScript) {
  const toBuyer = new FrameQueue();
  const seen: Message[] = [];
  const acks: SignedAck[] = [];
  const key = script.key ?? SELLER.private_key;
  let order: Order | null = null;
  let sent = 0;
  let acked = 0;
  let closed = false;
  const item = async (): Promise<Item> => ({
    name: "data.bin",
    size: script.bytes.length,
    price: 3_000_000n,
    token: "0x0000000000000000000000000000000000000000",
    chunkSize: script.chunkSize,
    sha256: await sha256Hex(script.bytes),
  });
  const send = async (m: Message, body?: Uint8Array) => {
    if (!closed) toBuyer.push(encodeFrame(await encodeMessage(m, key), body));
  };
  const pump = async () => {
    if (!order) return;
    const window = script.window ?? Infinity;
    while (sent < order.size && (sent === acked || sent - acked + Math.min(script.chunkSize, order.size - sent) <= window)) {
      const len = Math.min(script.chunkSize, order.size - sent);
      const body = script.bytes.slice(sent, sent + len);
      const header = { orderId: order.orderId, offset: sent, length: len, sha256: await sha256Hex(body) };
      script.tamper?.(sent, body);
      sent += len;
      await send({ type: "data", chunk: header }, body);
    }
  };
  let chain = Promise.resolve();
  const handle = async (frame: Uint8Array) => {
    const { header, body } = decodeFrame(frame);
    const got = await decodeMessage(header, body);
    const m = got.message;
    seen.push(m);
    if (m.type === "hello") {
      if (m.hello.resume) sent = acked = m.hello.resume.acked;
      await send({
        type: "menu",
        menu: { chainId: MARKET.chainId, market: MARKET.address, seller: SELLER.address, messageKey: SELLER.address, helloNonce: m.hello.nonce, confirmations: 1, items: [await item()] },
      });
    } else if (m.type === "order") {
      if (script.refuse) return send({ type: "error", failure: script.refuse });
      order = m.order;
      await pump();
    } else if (m.type === "ack") {
      const signer = await import("viem").then(({ recoverTypedDataAddress }) =>
        recoverTypedDataAddress({
          domain: { name: "Agora DataMarket", version: "1", chainId: MARKET.chainId, verifyingContract: MARKET.address },
          types: ACK_TYPES,
          primaryType: "Ack",
          message: { orderId: m.received.orderId, received: BigInt(m.received.received) },
          signature: m.voucher,
        }),
      );
      if (signer.toLowerCase() !== order?.ackSigner) throw new Error(`forged ack from ${signer}`);
      acks.push({ orderId: m.received.orderId, received: m.received.received, signature: m.voucher });
      acked = m.received.received;
      await pump();
    } else if (m.type === "exit") {
      const complete = acked === order?.size;
      await send({ type: "exit", exit: { orderId: m.exit.orderId, received: acked, reason: complete ? "complete" : "stopped", rating: complete ? { score: 5, comment: "" } : null } });
    }
  };
  const conn: FrameConn = {
    send: (frame) => {
      const copy = frame.slice();
      chain = chain.then(() => handle(copy));
    },
    next: (t, state) => toBuyer.next(t, state),
    wake: () => toBuyer.wake(),
    close: () => {
      closed = true;
      toBuyer.fail(new DataStreamError("closed", "closed"));
    },
  };
  return { conn, seen, acks, settled: () => chain, state: () => ({ sent, acked }) };
}

const base = { market: MARKET, account: BUYER.address, sessionKey: SESSION.private_key, seller: SELLER.address, sellerKey: SELLER.address };

async function placeOrder(session: BuyerSession): Promise<Order> {
  return session.orderFor(session.menu.items[0], 1_767_225_600, 7n, 1_767_312_000);
}

describe("a purchase against a seller", () => {
  it("receives every chunk, acknowledges each cumulatively, checks the whole and exits with a rating", async () => {
    const bytes = content(100_000);
    const seller = fakeSeller({ bytes, chunkSize: 16_384, window: 32_768 });
    const session = await BuyerSession.open(seller.conn, base);
    expect(session.menu.items[0].size).toBe(bytes.length);
    const order = await placeOrder(session);
    expect(order.orderId).toBe(orderIdOf(MARKET, BUYER.address, SELLER.address, 1_767_225_600, 7n));
    const out = new ItemBuffer();
    const progress: number[] = [];
    const kept: number[] = [];
    const outcome = await session.run(order, `0x${"ab".repeat(32)}`, out, {
      onProgress: (p) => progress.push(p.received),
      keepAck: (a) => kept.push(a.received),
      rating: () => ({ score: 4, comment: "fast" }),
    });
    await seller.settled();
    expect(outcome).toMatchObject({ complete: true, received: bytes.length, sellerRating: { score: 5, comment: "" } });
    expect(toHex(out.bytes())).toBe(toHex(bytes));
    const expectedAcks = [16384, 32768, 49152, 65536, 81920, 98304, 100000];
    expect(seller.acks.map((a) => a.received)).toEqual(expectedAcks);
    expect(kept).toEqual(expectedAcks);
    expect(progress).toEqual([0, ...expectedAcks]);
    const exit = seller.seen.at(-1)!;
    expect(exit).toMatchObject({ type: "exit", exit: { reason: "complete", received: 100000, rating: { score: 4, comment: "fast" } } });
    // The hello named the session key as the message key; every buyer message is signed by it.
    expect(seller.seen[0]).toMatchObject({ type: "hello", hello: { messageKey: SESSION.address, buyer: BUYER.address, resume: null } });
  });

  it("stop: exit (stopped) with the last ACK, chunks in flight ignored; resume: from that ACK, nothing sent twice", async () => {
    const bytes = content(64 * 1024);
    const seller = fakeSeller({ bytes, chunkSize: 4096, window: 8192 });
    const session = await BuyerSession.open(seller.conn, base);
    const order = await placeOrder(session);
    const out = new ItemBuffer();
    let last: SignedAck | null = null;
    const outcome = await session.run(order, `0x${"ab".repeat(32)}`, out, {
      keepAck: (a) => (last = a),
      onProgress: (p) => p.received >= 20_000 && session.stop(),
    });
    await seller.settled();
    expect(outcome.complete).toBe(false);
    const stoppedAt = outcome.received;
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(bytes.length);
    expect(last!.received).toBe(stoppedAt);
    expect(seller.state().acked).toBe(stoppedAt);
    expect(seller.seen.at(-1)).toMatchObject({ type: "exit", exit: { reason: "stopped", received: stoppedAt } });

    // A new connection resumes from the last ACK with its voucher.
    const second = fakeSeller({ bytes, chunkSize: 4096, window: 8192 });
    const resumed = await BuyerSession.open(second.conn, { ...base, resume: last });
    expect(second.seen[0]).toMatchObject({ type: "hello", hello: { resume: { orderId: order.orderId, acked: stoppedAt } }, voucher: last!.signature });
    const progress: number[] = [];
    const done = await resumed.run(order, `0x${"ab".repeat(32)}`, out, { onProgress: (p) => progress.push(p.received) });
    await second.settled();
    expect(done.complete).toBe(true);
    expect(progress[0]).toBe(stoppedAt);
    expect(toHex(out.bytes())).toBe(toHex(bytes));
    // Every ACK of the second connection is above the first's last: nothing paid twice.
    expect(Math.min(...second.acks.map((a) => a.received))).toBeGreaterThan(stoppedAt);
  });

  it("a resume cuts what was kept past the last ACK and receives it again", async () => {
    const bytes = content(20_000);
    const out = new ItemBuffer();
    out.write(bytes.slice(0, 12_000), 0);
    const ack = await signAck(SESSION.private_key, MARKET, orderIdOf(MARKET, BUYER.address, SELLER.address, 1_767_225_600, 7n), 8_000);
    const seller = fakeSeller({ bytes, chunkSize: 4000 });
    const session = await BuyerSession.open(seller.conn, { ...base, resume: ack });
    const done = await session.run(await placeOrder(session), `0x${"ab".repeat(32)}`, out);
    expect(done.complete).toBe(true);
    expect(toHex(out.bytes())).toBe(toHex(bytes));
  });
});

describe("refusals", () => {
  it("a tampered chunk: tampered_chunk, told to the seller, not acknowledged", async () => {
    const bytes = content(40_000);
    const seller = fakeSeller({ bytes, chunkSize: 10_000, tamper: (offset, body) => offset === 20_000 && (body[5] ^= 1) });
    const session = await BuyerSession.open(seller.conn, base);
    const out = new ItemBuffer();
    await expect(session.run(await placeOrder(session), `0x${"ab".repeat(32)}`, out)).rejects.toMatchObject({ code: "tampered_chunk", peer: false });
    await seller.settled();
    expect(seller.acks.map((a) => a.received)).toEqual([10_000, 20_000]);
    expect(out.length).toBe(20_000);
    expect(seller.seen.at(-1)).toMatchObject({ type: "error", failure: { code: "tampered_chunk" } });
  });

  it("a menu signed by a key other than the registry's: bad_signature", async () => {
    const seller = fakeSeller({ bytes: content(10), chunkSize: 10, key: STRANGER });
    await expect(BuyerSession.open(seller.conn, base)).rejects.toMatchObject({ code: "bad_signature" });
    await seller.settled();
    expect(seller.seen.at(-1)).toMatchObject({ type: "error", failure: { code: "bad_signature" } });
  });

  it("the seller's error message: its code and sentence, as the seller's", async () => {
    const seller = fakeSeller({ bytes: content(10), chunkSize: 10, refuse: { code: "order_refused", message: "the order's deadline 1 has passed" } });
    const session = await BuyerSession.open(seller.conn, base);
    const err = await session.run(await placeOrder(session), `0x${"ab".repeat(32)}`, new ItemBuffer()).catch((e: DataStreamError) => e);
    expect(err).toBeInstanceOf(DataStreamError);
    expect(err).toMatchObject({ code: "order_refused", peer: true, message: "the order's deadline 1 has passed" });
  });

  it("an order whose terms are not the menu's is refused before anything is sent", async () => {
    const seller = fakeSeller({ bytes: content(10), chunkSize: 10 });
    const session = await BuyerSession.open(seller.conn, base);
    const order = { ...(await placeOrder(session)), price: 1n };
    await expect(session.run(order, `0x${"ab".repeat(32)}`, new ItemBuffer())).rejects.toMatchObject({ code: "order_refused" });
    await seller.settled();
    expect(seller.seen.some((m) => m.type === "order")).toBe(false);
  });

  it("a seller that goes quiet: timeout naming the state", async () => {
    const queue = new FrameQueue();
    const conn: FrameConn = { send: () => undefined, next: (t, s) => queue.next(t, s), wake: () => queue.wake(), close: () => undefined };
    await expect(BuyerSession.open(conn, { ...base, timeouts: { handshake: 20 } })).rejects.toMatchObject({ code: "timeout", message: expect.stringMatching(/awaiting menu/) });
  });
});

describe("helpers", () => {
  it("paid so far is price × acked / size, rounded down, never past the price", () => {
    expect(paidFor(3_000_000n, 1, 3)).toBe(1_000_000n);
    expect(paidFor(10n, 1, 3)).toBe(3n);
    expect(paidFor(10n, 5, 3)).toBe(10n);
    expect(paidFor(2n ** 96n - 1n, 2 ** 52, 2 ** 53)).toBe((2n ** 96n - 1n) / 2n);
  });

  it("the comment hash is keccak256 of the text, zero for none", () => {
    expect(commentHash("")).toBe(`0x${"00".repeat(32)}`);
    expect(commentHash("good")).toBe(keccak256(toBytes("good")));
  });

  it("a registry endpoint becomes a WebSocket URL", () => {
    expect(websocketUrl("127.0.0.1:7070")).toBe("ws://127.0.0.1:7070/");
    expect(websocketUrl("seller.example:443", "https:")).toBe("wss://seller.example:443/");
    expect(websocketUrl("http://h:1/x")).toBe("ws://h:1/x");
    expect(websocketUrl("wss://h/")).toBe("wss://h/");
  });

  it("the envelope keeps the field order and lower-case hex whatever the input's case", () => {
    const m: Message = { type: "ack", received: { orderId: `0x${"AB".repeat(32)}` as Hex, received: 5 }, voucher: `0x${"CD".repeat(65)}` as Hex };
    expect(envelopeJson(m, `0x${"EF".repeat(65)}` as Hex)).toBe(
      `{"message_type":"ack","payload":{"order_id":"0x${"ab".repeat(32)}","received":5},"signature":"0x${"ef".repeat(65)}","verification":"0x${"cd".repeat(65)}"}`,
    );
    expect(privateKeyToAccount(SESSION.private_key).address.toLowerCase()).toBe(SESSION.address);
  });
});
