// Amounts are integers in the token's smallest unit everywhere; decimals appear only here, when a
// person reads them. No floating point touches an amount.

/// `0x1234…abcd`: the first four and last four hex digits of an address.
export function shortAddress(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return address;
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/// A hash shortened the same way (`0xabcdef…1234`), for transaction hashes and ids.
export function shortHash(hash: string): string {
  if (!/^0x[0-9a-fA-F]{16,}$/.test(hash)) return hash;
  return `${hash.slice(0, 8)}…${hash.slice(-6)}`;
}

/// Parses a decimal string of the smallest unit (as the API sends amounts) into a bigint.
export function parseUnitsString(value: string): bigint {
  if (!/^[0-9]+$/.test(value)) throw new Error(`not a decimal integer amount: ${JSON.stringify(value)}`);
  return BigInt(value);
}

/// `value` (smallest unit, `decimals` places) as a decimal number for people: integer part grouped
/// by thousands, fraction cut (never rounded up) to `maxFraction` digits and stripped of trailing
/// zeros. `1234567890000000000n, 18` → `1.23456` (with maxFraction 5) — `0.01`, `5`, `1,000`.
export function formatUnitsForDisplay(value: bigint, decimals: number, maxFraction = 6): string {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 255) throw new Error(`bad decimals: ${decimals}`);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const fraction = abs % base;
  let fractionText = decimals === 0 ? "" : fraction.toString().padStart(decimals, "0");
  fractionText = fractionText.slice(0, Math.max(0, maxFraction)).replace(/0+$/, "");
  const wholeText = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let text = fractionText ? `${wholeText}.${fractionText}` : wholeText;
  // A non-zero amount too small for `maxFraction` digits must not read as zero.
  if (abs !== 0n && whole === 0n && !fractionText) text = `<${maxFraction > 0 ? `0.${"0".repeat(maxFraction - 1)}1` : "1"}`;
  return negative ? `-${text}` : text;
}

/// An amount with its unit, e.g. `0.01 ETH` or `5 AMT`.
export function formatAmount(value: bigint | string, decimals: number, symbol: string, maxFraction = 6): string {
  const v = typeof value === "string" ? parseUnitsString(value) : value;
  return `${formatUnitsForDisplay(v, decimals, maxFraction)} ${symbol}`;
}

/// An amount of a token whose symbol and decimals may not be known yet: with its unit when they
/// are, else `null` (the caller shows the smallest unit and says so).
export function formatTokenAmount(value: bigint | string, token: { symbol: string; decimals: number } | undefined): string | null {
  return token ? formatAmount(value, token.decimals, token.symbol, token.decimals) : null;
}

/// A unix time (seconds) as local date and time in `locale`.
export function formatTime(unixSeconds: number, locale: string): string {
  return new Date(unixSeconds * 1000).toLocaleString(locale, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}
