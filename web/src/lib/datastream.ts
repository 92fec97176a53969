// The buyer's side of the data-stream protocol (docs/data-stream-protocol.md) in the browser, the
// same protocol `crates/datastream` speaks: frames (`length:u32be · header_length:u32be · header ·
// body`), the envelope `{message_type, payload, signature, verification}`, the EIP-712 typed form of
// every message (its `hashStruct` is what the sender `personal_sign`s), the seller's signatures
// checked against the registry's / the menu's key, every chunk hashed (WebCrypto SHA-256) against
// its signed header before it is kept and acknowledged, the cumulative `Ack(orderId, received)`
// voucher under the DataMarket domain signed by the order's session key, the order id as the
// contract derives it, and hello with resume. Transport-agnostic: `FrameConn` is one frame per
// message in both directions; `connectWebSocket` gives one over a WebSocket.
import { encodeAbiParameters, hashStruct, hashTypedData, keccak256, recoverMessageAddress, toBytes, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

export const PROTOCOL = "agora-datastream/1";
export const ETH = "0x0000000000000000000000000000000000000000";

// ---------------------------------------------------------------- errors

/// The codes an `error` message carries on the wire (and that this side refuses with), plus
/// `closed` (the connection ended) and `connect` (it never opened), which never travel.
export const WIRE_CODES = [
  "frame_too_large",
  "malformed",
  "unexpected",
  "bad_signature",
  "tampered_chunk",
  "out_of_order",
  "forged_ack",
  "stale_ack",
  "ack_beyond_sent",
  "content_mismatch",
  "order_refused",
  "timeout",
  "internal",
] as const;
export type WireCode = (typeof WIRE_CODES)[number];
export type ErrorCode = WireCode | "closed" | "connect";

/// A refusal or a failure. `peer`: the seller sent it (an `error` message); otherwise this side
/// found it (and told the seller, when the connection still stood).
export class DataStreamError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly peer = false,
  ) {
    super(message);
    this.name = "DataStreamError";
  }
}

// ---------------------------------------------------------------- messages

/// The market a connection is about: chain and `DataMarket`.
export interface MarketRef {
  chainId: number;
  address: Hex;
}

export interface Resume {
  orderId: Hex;
  acked: number;
}

export interface Hello {
  protocol: string;
  chainId: number;
  market: Hex;
  buyer: Hex;
  messageKey: Hex;
  nonce: Hex;
  resume: Resume | null;
}

/// One thing for sale. Sizes are byte counts (below 2^53), the price in the token's smallest unit.
export interface Item {
  name: string;
  size: number;
  price: bigint;
  token: Hex;
  chunkSize: number;
  sha256: Hex;
}

export interface Menu {
  chainId: number;
  market: Hex;
  seller: Hex;
  messageKey: Hex;
  helloNonce: Hex;
  confirmations: number;
  items: Item[];
}

export interface Order {
  orderId: Hex;
  buyer: Hex;
  seller: Hex;
  startedFrom: number;
  nonce: bigint;
  item: string;
  sha256: Hex;
  size: number;
  price: bigint;
  token: Hex;
  ackSigner: Hex;
  deadline: number;
}

export interface Chunk {
  orderId: Hex;
  offset: number;
  length: number;
  sha256: Hex;
}

export interface Received {
  orderId: Hex;
  received: number;
}

export interface Rating {
  score: number;
  comment: string;
}

export type ExitReason = "complete" | "stopped";

export interface Exit {
  orderId: Hex;
  received: number;
  reason: ExitReason;
  rating: Rating | null;
}

export interface Failure {
  code: string;
  message: string;
}

/// A message with what travels in `verification`.
export type Message =
  | { type: "hello"; hello: Hello; voucher: Hex | null }
  | { type: "menu"; menu: Menu }
  | { type: "order"; order: Order; escrowTx: Hex }
  | { type: "data"; chunk: Chunk }
  | { type: "ack"; received: Received; voucher: Hex }
  | { type: "exit"; exit: Exit }
  | { type: "error"; failure: Failure };

export type MessageType = Message["type"];

// ---------------------------------------------------------------- typed forms (EIP-712)

/// The typed form of every payload; struct and field names are part of the type hashes.
export const TYPES = {
  Hello: [
    { name: "protocol", type: "string" },
    { name: "chainId", type: "uint256" },
    { name: "market", type: "address" },
    { name: "buyer", type: "address" },
    { name: "messageKey", type: "address" },
    { name: "nonce", type: "bytes32" },
    { name: "resume", type: "bool" },
    { name: "resumeOrderId", type: "bytes32" },
    { name: "resumeAcked", type: "uint64" },
  ],
  Item: [
    { name: "name", type: "string" },
    { name: "size", type: "uint64" },
    { name: "price", type: "uint256" },
    { name: "token", type: "address" },
    { name: "chunkSize", type: "uint64" },
    { name: "sha256", type: "bytes32" },
  ],
  Menu: [
    { name: "chainId", type: "uint256" },
    { name: "market", type: "address" },
    { name: "seller", type: "address" },
    { name: "messageKey", type: "address" },
    { name: "helloNonce", type: "bytes32" },
    { name: "confirmations", type: "uint64" },
    { name: "items", type: "Item[]" },
  ],
  Order: [
    { name: "orderId", type: "bytes32" },
    { name: "buyer", type: "address" },
    { name: "seller", type: "address" },
    { name: "startedFrom", type: "uint64" },
    { name: "nonce", type: "uint256" },
    { name: "item", type: "string" },
    { name: "sha256", type: "bytes32" },
    { name: "size", type: "uint64" },
    { name: "price", type: "uint256" },
    { name: "token", type: "address" },
    { name: "ackSigner", type: "address" },
    { name: "deadline", type: "uint64" },
    { name: "escrowTx", type: "bytes32" },
  ],
  Chunk: [
    { name: "orderId", type: "bytes32" },
    { name: "offset", type: "uint64" },
    { name: "length", type: "uint64" },
    { name: "sha256", type: "bytes32" },
  ],
  Received: [
    { name: "orderId", type: "bytes32" },
    { name: "received", type: "uint64" },
  ],
  Exit: [
    { name: "orderId", type: "bytes32" },
    { name: "received", type: "uint64" },
    { name: "reason", type: "string" },
    { name: "rated", type: "bool" },
    { name: "score", type: "uint8" },
    { name: "comment", type: "string" },
  ],
  Failure: [
    { name: "code", type: "string" },
    { name: "message", type: "string" },
  ],
} as const;

type StructName = keyof typeof TYPES;

/// Which struct each message type is signed as.
export const STRUCT_OF: Record<MessageType, StructName> = {
  hello: "Hello",
  menu: "Menu",
  order: "Order",
  data: "Chunk",
  ack: "Received",
  exit: "Exit",
  error: "Failure",
};

/// EIP-712 `encodeType`: the struct, then the structs it refers to in name order.
export function encodeType(primary: StructName): string {
  const deps = new Set<StructName>();
  const visit = (name: StructName) => {
    for (const f of TYPES[name]) {
      const base = f.type.replace(/\[\]$/, "");
      if (base in TYPES && !deps.has(base as StructName) && base !== primary) {
        deps.add(base as StructName);
        visit(base as StructName);
      }
    }
  };
  visit(primary);
  const one = (name: StructName) => `${name}(${TYPES[name].map((f) => `${f.type} ${f.name}`).join(",")})`;
  return [one(primary), ...[...deps].sort().map(one)].join("");
}

/// A message's payload in its typed form.
function typedData(m: Message): Record<string, unknown> {
  switch (m.type) {
    case "hello": {
      const h = m.hello;
      return {
        protocol: h.protocol,
        chainId: BigInt(h.chainId),
        market: h.market,
        buyer: h.buyer,
        messageKey: h.messageKey,
        nonce: h.nonce,
        resume: h.resume !== null,
        resumeOrderId: h.resume?.orderId ?? `0x${"00".repeat(32)}`,
        resumeAcked: BigInt(h.resume?.acked ?? 0),
      };
    }
    case "menu": {
      const x = m.menu;
      return {
        chainId: BigInt(x.chainId),
        market: x.market,
        seller: x.seller,
        messageKey: x.messageKey,
        helloNonce: x.helloNonce,
        confirmations: BigInt(x.confirmations),
        items: x.items.map((i) => ({
          name: i.name,
          size: BigInt(i.size),
          price: i.price,
          token: i.token,
          chunkSize: BigInt(i.chunkSize),
          sha256: i.sha256,
        })),
      };
    }
    case "order": {
      const o = m.order;
      return {
        orderId: o.orderId,
        buyer: o.buyer,
        seller: o.seller,
        startedFrom: BigInt(o.startedFrom),
        nonce: o.nonce,
        item: o.item,
        sha256: o.sha256,
        size: BigInt(o.size),
        price: o.price,
        token: o.token,
        ackSigner: o.ackSigner,
        deadline: BigInt(o.deadline),
        escrowTx: m.escrowTx,
      };
    }
    case "data":
      return { orderId: m.chunk.orderId, offset: BigInt(m.chunk.offset), length: BigInt(m.chunk.length), sha256: m.chunk.sha256 };
    case "ack":
      return { orderId: m.received.orderId, received: BigInt(m.received.received) };
    case "exit":
      return {
        orderId: m.exit.orderId,
        received: BigInt(m.exit.received),
        reason: m.exit.reason,
        rated: m.exit.rating !== null,
        score: m.exit.rating?.score ?? 0,
        comment: m.exit.rating?.comment ?? "",
      };
    case "error":
      return { code: m.failure.code, message: m.failure.message };
  }
}

/// The 32 bytes the sender `personal_sign`s: the EIP-712 `hashStruct` of the payload's typed form.
export function digestOf(m: Message): Hex {
  return hashStruct({ data: typedData(m), primaryType: STRUCT_OF[m.type], types: TYPES });
}

// ---------------------------------------------------------------- the order id and the ACK

/// `keccak256(abi.encode(chainId, market, buyer, seller, uint64 startedFrom, uint256 nonce))`, as
/// `DataMarket.computeOrderId` derives it.
export function orderIdOf(market: MarketRef, buyer: Hex, seller: Hex, startedFrom: number, nonce: bigint): Hex {
  return keccak256(orderIdEncoding(market, buyer, seller, startedFrom, nonce));
}

export function orderIdEncoding(market: MarketRef, buyer: Hex, seller: Hex, startedFrom: number, nonce: bigint): Hex {
  return encodeAbiParameters(
    [{ type: "uint256" }, { type: "address" }, { type: "address" }, { type: "address" }, { type: "uint64" }, { type: "uint256" }],
    [BigInt(market.chainId), market.address, buyer, seller, BigInt(startedFrom), nonce],
  );
}

export const ACK_DOMAIN_NAME = "Agora DataMarket";
export const ACK_DOMAIN_VERSION = "1";
export const ACK_TYPES = {
  Ack: [
    { name: "orderId", type: "bytes32" },
    { name: "received", type: "uint64" },
  ],
} as const;

export function ackTypedData(market: MarketRef, orderId: Hex, received: number) {
  return {
    domain: { name: ACK_DOMAIN_NAME, version: ACK_DOMAIN_VERSION, chainId: market.chainId, verifyingContract: market.address },
    types: ACK_TYPES,
    primaryType: "Ack" as const,
    message: { orderId, received: BigInt(received) },
  };
}

/// The digest the contract's `ackDigest` returns (what the ACK signer signs).
export function ackDigest(market: MarketRef, orderId: Hex, received: number): Hex {
  return hashTypedData(ackTypedData(market, orderId, received));
}

/// A cumulative ACK: bytes received and verified, and its voucher.
export interface SignedAck {
  orderId: Hex;
  received: number;
  signature: Hex;
}

/// The voucher for `(orderId, received)`, by the order's ACK signer (a session key in this page).
export async function signAck(sessionKey: Hex, market: MarketRef, orderId: Hex, received: number): Promise<SignedAck> {
  const signature = await privateKeyToAccount(sessionKey).signTypedData(ackTypedData(market, orderId, received));
  return { orderId, received, signature };
}

// ---------------------------------------------------------------- signatures

/// Half the secp256k1 group order: a signature's `s` must not be above it.
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/// Why a signature cannot be used at all, or `null` when it has the protocol's shape: 65 bytes,
/// `v` 27/28 (or 0/1), `s` in the lower half.
export function signatureProblem(sig: string): string | null {
  if (!/^0x[0-9a-fA-F]*$/.test(sig)) return "not hex";
  if (sig.length !== 2 + 130) return `${(sig.length - 2) / 2} bytes, not 65`;
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  const v = Number.parseInt(sig.slice(130, 132), 16);
  if (![0, 1, 27, 28].includes(v)) return `recovery byte ${v}`;
  if (s === 0n || s > HALF_N) return "high s";
  return null;
}

/// The signer of a message's envelope signature.
export async function recoverSigner(m: Message, signature: Hex): Promise<Hex> {
  const problem = signatureProblem(signature);
  if (problem) throw new DataStreamError("bad_signature", `bad signature on ${m.type}: ${problem}`);
  const addr = await recoverMessageAddress({ message: { raw: digestOf(m) }, signature });
  return addr.toLowerCase() as Hex;
}

// ---------------------------------------------------------------- JSON (the envelope)

const lower = (a: string) => a.toLowerCase() as Hex;

/// The payload as JSON (snake case; amounts and nonces as decimal strings; addresses lower case).
function payloadJson(m: Message): Record<string, unknown> {
  switch (m.type) {
    case "hello": {
      const h = m.hello;
      return {
        protocol: h.protocol,
        chain_id: h.chainId,
        market: lower(h.market),
        buyer: lower(h.buyer),
        message_key: lower(h.messageKey),
        nonce: lower(h.nonce),
        resume: h.resume ? { order_id: lower(h.resume.orderId), acked: h.resume.acked } : null,
      };
    }
    case "menu": {
      const x = m.menu;
      return {
        chain_id: x.chainId,
        market: lower(x.market),
        seller: lower(x.seller),
        message_key: lower(x.messageKey),
        hello_nonce: lower(x.helloNonce),
        confirmations: x.confirmations,
        items: x.items.map((i) => ({
          name: i.name,
          size: i.size,
          price: i.price.toString(),
          token: lower(i.token),
          chunk_size: i.chunkSize,
          sha256: lower(i.sha256),
        })),
      };
    }
    case "order": {
      const o = m.order;
      return {
        order_id: lower(o.orderId),
        buyer: lower(o.buyer),
        seller: lower(o.seller),
        started_from: o.startedFrom,
        nonce: o.nonce.toString(),
        item: o.item,
        sha256: lower(o.sha256),
        size: o.size,
        price: o.price.toString(),
        token: lower(o.token),
        ack_signer: lower(o.ackSigner),
        deadline: o.deadline,
      };
    }
    case "data":
      return { order_id: lower(m.chunk.orderId), offset: m.chunk.offset, length: m.chunk.length, sha256: lower(m.chunk.sha256) };
    case "ack":
      return { order_id: lower(m.received.orderId), received: m.received.received };
    case "exit":
      return {
        order_id: lower(m.exit.orderId),
        received: m.exit.received,
        reason: m.exit.reason,
        rating: m.exit.rating ? { score: m.exit.rating.score, comment: m.exit.rating.comment } : null,
      };
    case "error":
      return { code: m.failure.code, message: m.failure.message };
  }
}

function verificationOf(m: Message): string {
  if (m.type === "hello") return m.voucher ? lower(m.voucher) : "";
  if (m.type === "ack") return lower(m.voucher);
  if (m.type === "order") return lower(m.escrowTx);
  return "";
}

/// JSON with every object's keys in code-point order (what `serde_json` writes for a `Value`), so
/// the header is byte for byte what the Rust implementation sends.
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/// The envelope's JSON with its signature: a frame's header.
export function envelopeJson(m: Message, signature: Hex): string {
  return `{"message_type":${JSON.stringify(m.type)},"payload":${JSON.stringify(canonical(payloadJson(m)))},"signature":${JSON.stringify(lower(signature))},"verification":${JSON.stringify(verificationOf(m))}}`;
}

/// Signs `m` with `key` (EIP-191 over its hashStruct) and returns the header.
export async function encodeMessage(m: Message, key: Hex): Promise<string> {
  const signature = await privateKeyToAccount(key).signMessage({ message: { raw: digestOf(m) } });
  return envelopeJson(m, signature);
}

// --- parsing, strictly: unknown fields are refused (they would not be signed)

class Shape {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly what: string,
  ) {}
  static of(v: unknown, what: string, fields: readonly string[]): Shape {
    if (!v || typeof v !== "object" || Array.isArray(v)) throw malformed(`${what} is not an object`);
    const extra = Object.keys(v).filter((k) => !fields.includes(k));
    if (extra.length) throw malformed(`${what}: unknown field ${extra[0]}`);
    const missing = fields.filter((k) => !(k in v));
    if (missing.length) throw malformed(`${what}: missing field ${missing[0]}`);
    return new Shape(v as Record<string, unknown>, what);
  }
  raw(k: string): unknown {
    return this.obj[k];
  }
  str(k: string): string {
    const v = this.obj[k];
    if (typeof v !== "string") throw malformed(`${this.what}.${k} is not a string`);
    return v;
  }
  num(k: string): number {
    const v = this.obj[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw malformed(`${this.what}.${k} is not a byte count or time`);
    return v;
  }
  dec(k: string): bigint {
    const v = this.str(k);
    if (!/^[0-9]+$/.test(v)) throw malformed(`${this.what}.${k}: ${JSON.stringify(v)} is not a decimal integer`);
    const n = BigInt(v);
    if (n >= 2n ** 256n) throw malformed(`${this.what}.${k} is over 256 bits`);
    return n;
  }
  hex(k: string, bytes: number): Hex {
    const v = this.str(k);
    if (!new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`).test(v)) throw malformed(`${this.what}.${k} is not ${bytes} bytes of 0x hex`);
    return v.toLowerCase() as Hex;
  }
  addr(k: string): Hex {
    return this.hex(k, 20);
  }
}

function malformed(reason: string): DataStreamError {
  return new DataStreamError("malformed", reason);
}

function parseItem(v: unknown): Item {
  const s = Shape.of(v, "item", ["name", "size", "price", "token", "chunk_size", "sha256"]);
  return { name: s.str("name"), size: s.num("size"), price: s.dec("price"), token: s.addr("token"), chunkSize: s.num("chunk_size"), sha256: s.hex("sha256", 32) };
}

function parsePayload(type: MessageType, payload: unknown, verification: string): Message {
  const none = () => {
    if (verification !== "") throw malformed(`${type}: verification must be empty`);
  };
  const voucher = (): Hex => {
    if (!/^0x[0-9a-fA-F]{130}$/.test(verification)) throw malformed(`${type}: verification is not a 65-byte voucher`);
    return verification.toLowerCase() as Hex;
  };
  switch (type) {
    case "hello": {
      const s = Shape.of(payload, "hello", ["protocol", "chain_id", "market", "buyer", "message_key", "nonce", "resume"]);
      const r = s.raw("resume");
      const resume = r === null ? null : (() => {
        const x = Shape.of(r, "hello.resume", ["order_id", "acked"]);
        return { orderId: x.hex("order_id", 32), acked: x.num("acked") };
      })();
      const hello: Hello = {
        protocol: s.str("protocol"),
        chainId: s.num("chain_id"),
        market: s.addr("market"),
        buyer: s.addr("buyer"),
        messageKey: s.addr("message_key"),
        nonce: s.hex("nonce", 32),
        resume,
      };
      if (resume) return { type, hello, voucher: voucher() };
      none();
      return { type, hello, voucher: null };
    }
    case "menu": {
      none();
      const s = Shape.of(payload, "menu", ["chain_id", "market", "seller", "message_key", "hello_nonce", "confirmations", "items"]);
      const items = s.raw("items");
      if (!Array.isArray(items)) throw malformed("menu.items is not a list");
      return {
        type,
        menu: {
          chainId: s.num("chain_id"),
          market: s.addr("market"),
          seller: s.addr("seller"),
          messageKey: s.addr("message_key"),
          helloNonce: s.hex("hello_nonce", 32),
          confirmations: s.num("confirmations"),
          items: items.map(parseItem),
        },
      };
    }
    case "order": {
      const s = Shape.of(payload, "order", ["order_id", "buyer", "seller", "started_from", "nonce", "item", "sha256", "size", "price", "token", "ack_signer", "deadline"]);
      if (!/^0x[0-9a-fA-F]{64}$/.test(verification)) throw malformed("order: verification is not a transaction hash");
      return {
        type,
        escrowTx: verification.toLowerCase() as Hex,
        order: {
          orderId: s.hex("order_id", 32),
          buyer: s.addr("buyer"),
          seller: s.addr("seller"),
          startedFrom: s.num("started_from"),
          nonce: s.dec("nonce"),
          item: s.str("item"),
          sha256: s.hex("sha256", 32),
          size: s.num("size"),
          price: s.dec("price"),
          token: s.addr("token"),
          ackSigner: s.addr("ack_signer"),
          deadline: s.num("deadline"),
        },
      };
    }
    case "data": {
      none();
      const s = Shape.of(payload, "data", ["order_id", "offset", "length", "sha256"]);
      return { type, chunk: { orderId: s.hex("order_id", 32), offset: s.num("offset"), length: s.num("length"), sha256: s.hex("sha256", 32) } };
    }
    case "ack": {
      const s = Shape.of(payload, "ack", ["order_id", "received"]);
      return { type, received: { orderId: s.hex("order_id", 32), received: s.num("received") }, voucher: voucher() };
    }
    case "exit": {
      none();
      const s = Shape.of(payload, "exit", ["order_id", "received", "reason", "rating"]);
      const reason = s.str("reason");
      if (reason !== "complete" && reason !== "stopped") throw malformed(`exit.reason ${JSON.stringify(reason)}`);
      const r = s.raw("rating");
      let rating: Rating | null = null;
      if (r !== null) {
        const x = Shape.of(r, "exit.rating", ["score", "comment"]);
        const score = x.num("score");
        if (score < 1 || score > 5) throw malformed(`rating score ${score} is not 1 to 5`);
        rating = { score, comment: x.str("comment") };
      }
      return { type, exit: { orderId: s.hex("order_id", 32), received: s.num("received"), reason, rating } };
    }
    case "error": {
      none();
      const s = Shape.of(payload, "error", ["code", "message"]);
      return { type, failure: { code: s.str("code"), message: s.str("message") } };
    }
  }
}

/// A message as received: what it says and who signed it.
export interface Signed {
  message: Message;
  signer: Hex;
  body: Uint8Array;
}

const MESSAGE_TYPES: readonly MessageType[] = ["hello", "menu", "order", "data", "ack", "exit", "error"];

/// Parses an envelope, checks its payload against its type (and the body against `data`'s
/// length), and recovers its signer.
export async function decodeMessage(header: Uint8Array, body: Uint8Array): Promise<Signed> {
  let env: unknown;
  try {
    env = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(header));
  } catch (e) {
    throw malformed(`header is not a message envelope: ${e instanceof Error ? e.message : e}`);
  }
  const s = Shape.of(env, "envelope", ["message_type", "payload", "signature", "verification"]);
  const type = s.str("message_type");
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) throw malformed(`unknown message type ${JSON.stringify(type)}`);
  const message = parsePayload(type as MessageType, s.raw("payload"), s.str("verification"));
  if (message.type === "data") {
    if (message.chunk.length !== body.length) throw malformed(`header says ${message.chunk.length} bytes, the body has ${body.length}`);
  } else if (body.length) {
    throw malformed(`a ${type} frame carries no body, got ${body.length}`);
  }
  const signer = await recoverSigner(message, s.str("signature") as Hex);
  return { message, signer, body };
}

// ---------------------------------------------------------------- frames

export interface Limits {
  /// The most bytes after a frame's length field.
  maxFrame: number;
  /// The most bytes of a header.
  maxHeader: number;
}

export const DEFAULT_LIMITS: Limits = { maxFrame: 8 * 1024 * 1024 + 256 * 1024, maxHeader: 256 * 1024 };

/// `length:u32be · header_length:u32be · header · body`.
export function encodeFrame(header: string | Uint8Array, body: Uint8Array = new Uint8Array()): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 4 + h.length + body.length);
  view.setUint32(4, h.length);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

/// Splits one whole frame (a WebSocket message carries exactly one) into header and body, checking
/// the limits from the first eight bytes.
export function decodeFrame(frame: Uint8Array, limits: Limits = DEFAULT_LIMITS): { header: Uint8Array; body: Uint8Array } {
  if (frame.length < 4) throw malformed(`a frame of ${frame.length} bytes has no length`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const len = view.getUint32(0);
  if (len > limits.maxFrame) throw new DataStreamError("frame_too_large", `frame of ${len} bytes is over the maximum of ${limits.maxFrame}`);
  if (len < 4) throw malformed(`frame length ${len} cannot hold a header length`);
  if (frame.length < 8) throw malformed("the frame ends inside its header length");
  const headerLen = view.getUint32(4);
  if (headerLen > limits.maxHeader) throw new DataStreamError("frame_too_large", `header of ${headerLen} bytes is over the maximum of ${limits.maxHeader}`);
  if (headerLen > len - 4) throw malformed(`header length ${headerLen} runs past the frame's ${len} bytes`);
  if (headerLen === 0) throw malformed("empty header");
  if (frame.length !== len + 4) throw malformed(`the frame says ${len + 4} bytes, the message holds ${frame.length}`);
  return { header: frame.subarray(8, 8 + headerLen), body: frame.subarray(8 + headerLen) };
}

// ---------------------------------------------------------------- hashing

/// SHA-256 through WebCrypto, as 0x hex.
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<Hex> {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  // A view's own bytes (a chunk is a view into its frame).
  const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", own as Uint8Array<ArrayBuffer>)));
}

/// The item as it arrives: chunks appended in order, cut back to the last ACK on a resume, hashed
/// whole at the end and handed out as a Blob.
export class ItemBuffer {
  private parts: Uint8Array[] = [];
  length = 0;

  /// Appends a chunk that starts at `offset` (which must be the bytes held so far).
  write(body: Uint8Array, offset: number): void {
    if (offset !== this.length) throw new DataStreamError("out_of_order", `a chunk at ${offset}, ${this.length} bytes held`);
    this.parts.push(body.slice());
    this.length += body.length;
  }

  /// Keeps the first `n` bytes (a resume starts from the last ACK).
  truncate(n: number): void {
    if (n > this.length) throw new DataStreamError("internal", `${this.length} bytes held, fewer than the ${n} acknowledged`);
    const kept: Uint8Array[] = [];
    let left = n;
    for (const p of this.parts) {
      if (left === 0) break;
      kept.push(p.length <= left ? p : p.slice(0, left));
      left -= Math.min(left, p.length);
    }
    this.parts = kept;
    this.length = n;
  }

  blob(type = "application/octet-stream"): Blob {
    return new Blob(this.parts as BlobPart[], { type });
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  async sha256(): Promise<Hex> {
    return sha256Hex(this.bytes());
  }
}

// ---------------------------------------------------------------- connections

/// One frame per message, both ways.
export interface FrameConn {
  send(frame: Uint8Array): void;
  /// The next frame, or `null` when `wake()` was called while waiting. Rejects with `closed` when
  /// the connection ends and `timeout` (naming `state`) after `timeoutMs`.
  next(timeoutMs: number, state: string): Promise<Uint8Array | null>;
  /// Makes a pending `next` return `null` at once (nothing is consumed).
  wake(): void;
  close(): void;
}

/// The receiving half every connection shares: frames queued as they arrive, one waiter at a time.
export class FrameQueue {
  private frames: Uint8Array[] = [];
  private failure: DataStreamError | null = null;
  private waiter: { resolve(f: Uint8Array | null): void; reject(e: Error): void } | null = null;

  push(frame: Uint8Array): void {
    if (this.failure) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(frame);
    } else this.frames.push(frame);
  }

  /// The connection is over: what is queued is still read, then `err`.
  fail(err: DataStreamError): void {
    if (this.failure) return;
    this.failure = err;
    if (this.waiter && this.frames.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.resolve(null);
  }

  next(timeoutMs: number, state: string): Promise<Uint8Array | null> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new DataStreamError("internal", "two readers on one connection"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new DataStreamError("timeout", `no message from the seller within ${Math.round(timeoutMs / 1000)} s (${state})`));
      }, timeoutMs);
      this.waiter = {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }
}

/// `ws://host:port/` for a registry endpoint (`host:port`, or a `ws(s)://` / `http(s)://` URL).
export function websocketUrl(endpoint: string, pageProtocol = "http:"): string {
  const e = endpoint.trim();
  if (/^wss?:\/\//i.test(e)) return e;
  if (/^https?:\/\//i.test(e)) return e.replace(/^http/i, "ws");
  return `${pageProtocol === "https:" ? "wss" : "ws"}://${e}/`;
}

/// Opens a WebSocket to `url` (binary messages, one frame each).
export function connectWebSocket(url: string, timeoutMs = 15_000): Promise<FrameConn> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      reject(new DataStreamError("connect", `cannot connect to ${url}: ${e instanceof Error ? e.message : e}`));
      return;
    }
    ws.binaryType = "arraybuffer";
    const queue = new FrameQueue();
    let opened = false;
    const timer = setTimeout(() => {
      if (!opened) {
        ws.close();
        reject(new DataStreamError("connect", `${url} did not answer within ${Math.round(timeoutMs / 1000)} s`));
      }
    }, timeoutMs);
    ws.onopen = () => {
      opened = true;
      clearTimeout(timer);
      resolve({
        send: (frame) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(frame);
        },
        next: (t, state) => queue.next(t, state),
        wake: () => queue.wake(),
        close: () => ws.close(),
      });
    };
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) queue.push(new Uint8Array(ev.data));
      else queue.fail(malformed("a text message where a binary frame belongs"));
    };
    ws.onerror = () => {
      if (!opened) {
        clearTimeout(timer);
        reject(new DataStreamError("connect", `cannot connect to ${url}`));
      }
    };
    ws.onclose = () => {
      clearTimeout(timer);
      if (!opened) reject(new DataStreamError("connect", `cannot connect to ${url}`));
      queue.fail(new DataStreamError("closed", "the seller closed the connection"));
    };
  });
}

// ---------------------------------------------------------------- the buyer

/// The order for `item` between `parties`, its id derived as the contract derives it.
export function makeOrder(
  market: MarketRef,
  parties: { buyer: Hex; seller: Hex; ackSigner: Hex },
  item: Item,
  startedFrom: number,
  nonce: bigint,
  deadline: number,
): Order {
  return {
    orderId: orderIdOf(market, parties.buyer, parties.seller, startedFrom, nonce),
    buyer: lower(parties.buyer),
    seller: lower(parties.seller),
    startedFrom,
    nonce,
    item: item.name,
    sha256: item.sha256,
    size: item.size,
    price: item.price,
    token: item.token,
    ackSigner: lower(parties.ackSigner),
    deadline,
  };
}

export interface Timeouts {
  handshake: number;
  escrow: number;
  data: number;
  exit: number;
}

/// The protocol's defaults (ms): handshake 30 s, escrow 600 s, data 60 s, exit 30 s.
export const DEFAULT_TIMEOUTS: Timeouts = { handshake: 30_000, escrow: 600_000, data: 60_000, exit: 30_000 };

export interface BuyerOptions {
  market: MarketRef;
  /// The account that escrows (the order's `buyer`).
  account: Hex;
  /// The session key: signs the buyer's envelopes (as `message_key`) and the ACKs (the order's
  /// `ackSigner`).
  sessionKey: Hex;
  /// The seller's account, when known (the registry's): the menu must name it.
  seller?: Hex;
  /// The key that must sign the seller's messages (the registry's `messageSigner`); without it the
  /// menu's own `message_key`.
  sellerKey?: Hex;
  /// Resume from this ACK (the last of an earlier connection).
  resume?: SignedAck | null;
  timeouts?: Partial<Timeouts>;
  limits?: Limits;
  /// A fixed hello nonce (tests); otherwise 32 random bytes.
  nonce?: Hex;
}

/// How far a transfer is.
export interface Progress {
  /// Bytes received, verified, kept and acknowledged.
  received: number;
  total: number;
  /// The last ACK signed.
  ack: SignedAck | null;
}

/// How a transfer ended well.
export interface Outcome {
  orderId: Hex;
  received: number;
  /// Every byte arrived and the whole matches the item's hash.
  complete: boolean;
  /// The seller ended it (its `exit` came first).
  stoppedBySeller: boolean;
  /// The seller's rating of the buyer, from its `exit`.
  sellerRating: Rating | null;
}

export interface RunHooks {
  /// Keeps an ACK where a later resume reads it; called before the ACK is sent.
  keepAck?(ack: SignedAck): void;
  onProgress?(p: Progress): void;
  /// The rating to send in the buyer's `exit` (read when it is sent).
  rating?(): Rating | null;
}

function randomNonce(): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/// A connection to a seller after the menu: `run` places the order and receives the item; `stop`
/// ends the transfer early (`exit` stopped); closing the connection instead pauses it (the order
/// stays open and `resume` continues from the last ACK).
export class BuyerSession {
  private stopRequested = false;
  private running = false;
  private lastAck: SignedAck | null;
  private readonly t: Timeouts;

  private constructor(
    private readonly conn: FrameConn,
    private readonly opts: BuyerOptions,
    readonly menu: Menu,
  ) {
    this.t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.lastAck = opts.resume ?? null;
  }

  /// Says hello (resuming when `opts.resume` is given) and reads the menu, checked: signed by the
  /// registry's key (or its own `message_key`), answering this hello, for this market and seller.
  static async open(conn: FrameConn, opts: BuyerOptions): Promise<BuyerSession> {
    const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    const key = privateKeyToAccount(opts.sessionKey);
    const hello: Hello = {
      protocol: PROTOCOL,
      chainId: opts.market.chainId,
      market: opts.market.address,
      buyer: opts.account,
      messageKey: key.address,
      nonce: opts.nonce ?? randomNonce(),
      resume: opts.resume ? { orderId: opts.resume.orderId, acked: opts.resume.received } : null,
    };
    const send = async (m: Message, body?: Uint8Array) => conn.send(encodeFrame(await encodeMessage(m, opts.sessionKey), body));
    try {
      await send({ type: "hello", hello, voucher: opts.resume?.signature ?? null });
      const got = await recv(conn, t.handshake, "awaiting menu", opts.limits, opts.sellerKey);
      if (!got || got.message.type !== "menu") {
        throw new DataStreamError("unexpected", `unexpected ${got?.message.type ?? "nothing"} (awaiting menu)`);
      }
      const menu = got.message.menu;
      if (got.signer !== menu.messageKey) {
        throw new DataStreamError("bad_signature", `menu message signed by ${got.signer}, expected ${menu.messageKey}`);
      }
      if (menu.helloNonce !== hello.nonce.toLowerCase() || menu.chainId !== hello.chainId || menu.market !== lower(hello.market)) {
        throw new DataStreamError("order_refused", "the menu answers another hello or another market");
      }
      if (opts.seller && menu.seller !== lower(opts.seller)) {
        throw new DataStreamError("order_refused", `the menu is ${menu.seller}'s, not ${lower(opts.seller)}'s`);
      }
      return new BuyerSession(conn, opts, menu);
    } catch (e) {
      throw await failConn(conn, opts.sessionKey, e);
    }
  }

  /// The order for `item`, with this page's session key as `ackSigner` and the id derived as the
  /// contract derives it. Escrow it on chain, then `run`.
  orderFor(item: Item, startedFrom: number, nonce: bigint, deadline: number): Order {
    const o = this.opts;
    return makeOrder(o.market, { buyer: o.account, seller: this.menu.seller, ackSigner: privateKeyToAccount(o.sessionKey).address }, item, startedFrom, nonce, deadline);
  }

  /// The last ACK signed (what a resume starts from).
  get ack(): SignedAck | null {
    return this.lastAck;
  }

  /// Ends the transfer early: `exit` (stopped) is sent once the chunk in hand is acknowledged,
  /// chunks in flight are ignored, and `run` returns when the seller's `exit` arrives.
  stop(): void {
    this.stopRequested = true;
    this.conn.wake();
  }

  /// Closes the connection without an `exit` (a pause: the order stays open, resume continues).
  close(): void {
    this.conn.close();
  }

  /// The order's item on this menu, checked against the order's terms.
  private itemOf(order: Order): Item {
    const o = this.opts;
    if (lower(order.seller) !== this.menu.seller || lower(order.buyer) !== lower(o.account)) {
      throw new DataStreamError("order_refused", "the order is not between this buyer and this seller");
    }
    if (lower(order.ackSigner) !== lower(privateKeyToAccount(o.sessionKey).address)) {
      throw new DataStreamError("order_refused", "the order's ACK signer is not this session's key");
    }
    if (orderIdOf(o.market, order.buyer, order.seller, order.startedFrom, order.nonce) !== order.orderId) {
      throw new DataStreamError("order_refused", "the order id is not the id of its terms");
    }
    const item = this.menu.items.find((i) => i.name === order.item);
    if (!item) throw new DataStreamError("order_refused", `the menu has no item ${JSON.stringify(order.item)}`);
    if (item.size !== order.size || item.sha256 !== lower(order.sha256) || item.price !== order.price || item.token !== lower(order.token)) {
      throw new DataStreamError("order_refused", `the order's terms for ${JSON.stringify(item.name)} are not the menu's`);
    }
    const r = this.opts.resume;
    if (r && (r.orderId !== order.orderId || r.received > item.size)) {
      throw new DataStreamError("order_refused", "the resume ACK is for another order");
    }
    return item;
  }

  /// Sends `order` with its escrow transaction and receives the item into `out`: each chunk
  /// checked (signer, order, offset, length, SHA-256) before it is kept and acknowledged; at the end
  /// the whole is checked against the item's hash and `exit` sent. Resuming, `out` must hold at
  /// least the resumed bytes; anything after them is cut off and received again.
  async run(order: Order, escrowTx: Hex, out: ItemBuffer, hooks: RunHooks = {}): Promise<Outcome> {
    if (this.running) throw new DataStreamError("internal", "this connection already carries a transfer");
    this.running = true;
    try {
      return await this.transfer(order, escrowTx, out, hooks);
    } catch (e) {
      throw await failConn(this.conn, this.opts.sessionKey, e);
    }
  }

  private async send(m: Message): Promise<void> {
    this.conn.send(encodeFrame(await encodeMessage(m, this.opts.sessionKey)));
  }

  private async transfer(order: Order, escrowTx: Hex, out: ItemBuffer, hooks: RunHooks): Promise<Outcome> {
    const item = this.itemOf(order);
    const start = this.opts.resume?.received ?? 0;
    out.truncate(start);
    let received = start;
    const progress = () => hooks.onProgress?.({ received, total: item.size, ack: this.lastAck });
    progress();
    await this.send({ type: "order", order, escrowTx });
    const sellerKey = this.menu.messageKey;
    // The first chunk comes once the seller sees the escrow deep enough.
    let wait = this.t.escrow + this.t.data;
    while (received < item.size) {
      if (this.stopRequested) return this.stopNow(order, received, hooks);
      const got = await recv(this.conn, wait, "awaiting data", this.opts.limits, sellerKey);
      if (!got) continue; // woken by stop()
      wait = this.t.data;
      const m = got.message;
      if (m.type === "exit") return this.stoppedBySeller(order, received, hooks);
      if (m.type !== "data") throw new DataStreamError("unexpected", `unexpected ${m.type} message (awaiting data)`);
      await checkChunk(order.orderId, item, received, m.chunk, got.body);
      out.write(got.body, received);
      received += m.chunk.length;
      const ack = await signAck(this.opts.sessionKey, this.opts.market, order.orderId, received);
      hooks.keepAck?.(ack);
      this.lastAck = ack;
      progress();
      await this.send({ type: "ack", received: { orderId: order.orderId, received }, voucher: ack.signature });
    }
    const whole = await out.sha256();
    if (whole !== lower(item.sha256)) {
      throw new DataStreamError("content_mismatch", `the item hashes to ${whole}, the menu says ${item.sha256}`);
    }
    await this.send({ type: "exit", exit: { orderId: order.orderId, received, reason: "complete", rating: hooks.rating?.() ?? null } });
    const got = await recv(this.conn, this.t.exit, "awaiting exit", this.opts.limits, sellerKey);
    if (!got || got.message.type !== "exit") throw new DataStreamError("unexpected", `unexpected ${got?.message.type ?? "nothing"} (awaiting exit)`);
    this.conn.close();
    return { orderId: order.orderId, received, complete: true, stoppedBySeller: false, sellerRating: got.message.exit.rating };
  }

  private async stopNow(order: Order, received: number, hooks: RunHooks): Promise<Outcome> {
    await this.send({ type: "exit", exit: { orderId: order.orderId, received, reason: "stopped", rating: hooks.rating?.() ?? null } });
    for (;;) {
      const got = await recv(this.conn, this.t.exit, "awaiting exit", this.opts.limits, this.menu.messageKey);
      if (!got || got.message.type === "data") continue; // chunks already in flight
      if (got.message.type !== "exit") throw new DataStreamError("unexpected", `unexpected ${got.message.type} message (awaiting exit)`);
      this.conn.close();
      return { orderId: order.orderId, received, complete: false, stoppedBySeller: false, sellerRating: got.message.exit.rating };
    }
  }

  private async stoppedBySeller(order: Order, received: number, hooks: RunHooks): Promise<Outcome> {
    await this.send({ type: "exit", exit: { orderId: order.orderId, received, reason: "stopped", rating: hooks.rating?.() ?? null } });
    this.conn.close();
    return { orderId: order.orderId, received, complete: false, stoppedBySeller: true, sellerRating: null };
  }
}

/// The next message, signed by `signer` when given; an `error` from the seller becomes a
/// `DataStreamError` with its code and sentence. `null` when woken.
async function recv(conn: FrameConn, timeoutMs: number, state: string, limits: Limits | undefined, signer: Hex | undefined): Promise<Signed | null> {
  const frame = await conn.next(timeoutMs, state);
  if (frame === null) return null;
  const { header, body } = decodeFrame(frame, limits);
  const got = await decodeMessage(header, body);
  if (signer && got.signer !== lower(signer)) {
    throw new DataStreamError("bad_signature", `${got.message.type} message signed by ${got.signer}, expected ${lower(signer)}`);
  }
  if (got.message.type === "error") {
    throw new DataStreamError(got.message.failure.code as ErrorCode, got.message.failure.message, true);
  }
  return got;
}

async function checkChunk(orderId: Hex, item: Item, expected: number, chunk: Chunk, body: Uint8Array): Promise<void> {
  const outOfOrder = (why: string) =>
    new DataStreamError("out_of_order", `chunk out of order: expected offset ${expected}, got offset ${chunk.offset} (${why})`);
  if (chunk.orderId !== lower(orderId)) throw new DataStreamError("order_refused", `a chunk of order ${chunk.orderId}, this is ${orderId}`);
  if (chunk.offset !== expected) throw outOfOrder("not the next offset");
  if (chunk.length === 0 || chunk.length > item.chunkSize) throw outOfOrder("length is zero or over the granularity");
  if (chunk.offset + chunk.length > item.size) throw outOfOrder("runs past the end of the item");
  const got = await sha256Hex(body);
  if (got !== chunk.sha256) {
    throw new DataStreamError("tampered_chunk", `tampered chunk at offset ${chunk.offset}: body hashes to ${got}, the seller signed ${chunk.sha256}`);
  }
}

/// Tells the seller why the session ends (a refusal found here; best effort) and closes; hands the
/// error back as a `DataStreamError`.
async function failConn(conn: FrameConn, key: Hex, e: unknown): Promise<DataStreamError> {
  const err = e instanceof DataStreamError ? e : new DataStreamError("internal", e instanceof Error ? e.message : String(e));
  if (!err.peer && (WIRE_CODES as readonly string[]).includes(err.code)) {
    try {
      conn.send(encodeFrame(await encodeMessage({ type: "error", failure: { code: err.code, message: err.message } }, key)));
    } catch {
      // the connection may be gone
    }
  }
  conn.close();
  return err;
}

// ---------------------------------------------------------------- money and rates

/// What the seller is owed for `acked` of `size` bytes: `price × acked / size`, rounded down, as
/// the contract settles.
export function paidFor(price: bigint, acked: number, size: number): bigint {
  if (size <= 0) return 0n;
  const a = BigInt(Math.min(Math.max(acked, 0), size));
  return (price * a) / BigInt(size);
}

/// The hash a comment is rated with on chain (`rate(orderId, score, commentHash)`): keccak256 of
/// its UTF-8, zero for none.
export function commentHash(comment: string): Hex {
  return comment ? keccak256(toBytes(comment)) : `0x${"00".repeat(32)}`;
}
