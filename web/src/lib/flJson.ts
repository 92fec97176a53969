// Reading the node's JSON by hand where openapi.json does not describe it yet: keys in snake_case
// or camelCase, amounts as decimal strings into bigints, addresses lower-case, times in unix
// seconds; anything missing or malformed is refused with a sentence naming the field.
import type { Hex } from "viem";
import { parseUnitsString } from "./format";

export type Obj = Record<string, unknown>;

/// `record_cid` → `recordCid`.
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/// The value with every object key in camelCase (arrays and nested objects included).
export function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v as Obj).map(([k, x]) => [camelKey(k), camelKeys(x)]));
  return v;
}

export class Shape extends Error {
  constructor(what: string, field: string, value: unknown) {
    super(`${what}: bad ${field} ${JSON.stringify(value)?.slice(0, 80)}`);
    this.name = "ShapeError";
  }
}

export function obj(v: unknown, what: string): Obj {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Shape(what, "object", v);
  return v as Obj;
}
export function list(v: unknown, what: string, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Shape(what, field, v);
  return v;
}
export function address(v: unknown, what: string, field: string): Hex {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw new Shape(what, field, v);
  return v.toLowerCase() as Hex;
}
export function optAddress(v: unknown, what: string, field: string): Hex | null {
  return v === undefined || v === null ? null : address(v, what, field);
}
export function hash(v: unknown, what: string, field: string): Hex {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(v)) throw new Shape(what, field, v);
  return v.toLowerCase() as Hex;
}
export function optHash(v: unknown, what: string, field: string): Hex | null {
  return v === undefined || v === null ? null : hash(v, what, field);
}
/// An amount: a decimal string (as the API sends them) or a safe integer.
export function amount(v: unknown, what: string, field: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== "string") throw new Shape(what, field, v);
  try {
    return parseUnitsString(v);
  } catch {
    throw new Shape(what, field, v);
  }
}
export function optAmount(v: unknown, what: string, field: string): bigint | null {
  return v === undefined || v === null ? null : amount(v, what, field);
}
export function int(v: unknown, what: string, field: string): number {
  const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new Shape(what, field, v);
  return n;
}
export function optInt(v: unknown, what: string, field: string): number | null {
  return v === undefined || v === null ? null : int(v, what, field);
}
export function num(v: unknown, what: string, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Shape(what, field, v);
  return v;
}
export function str(v: unknown, what: string, field: string): string {
  if (typeof v !== "string") throw new Shape(what, field, v);
  return v;
}
/// Unix seconds, from seconds or an RFC 3339 string.
export function time(v: unknown, what: string, field: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "number" && Number.isFinite(v)) return Math.floor(v);
  if (typeof v === "string") {
    if (/^[0-9]+$/.test(v)) return Number(v);
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  throw new Shape(what, field, v);
}

export function optNum(v: unknown, what: string, field: string): number | null {
  return v === undefined || v === null ? null : num(v, what, field);
}
