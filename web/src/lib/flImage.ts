// An image as the federated models read it: 28×28 grayscale bytes, row-major, 0 = background (the
// Fashion-MNIST and MNIST convention: a light object on black). The page draws the upload (or the
// drawing) into a 28×28 canvas — `fitInto` keeps its proportions — and `toModelPixels` turns the
// canvas's RGBA into those bytes, inverting a photo whose background is light. The bytes travel as
// base64, and their keccak256 is the `inputHash` paid for on chain.
import { keccak256, type Hex } from "viem";

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

/// Where to draw a `w`×`h` image in a `side`×`side` square: scaled to fit, centred.
export function fitInto(w: number, h: number, side = SIDE): { dx: number; dy: number; dw: number; dh: number } {
  if (!(w > 0 && h > 0)) throw new Error(`not an image size: ${w}×${h}`);
  const dw = w >= h ? side : (w * side) / h;
  const dh = w >= h ? (h * side) / w : side;
  return { dx: (side - dw) / 2, dy: (side - dh) / 2, dw, dh };
}

/// A pixel's luminance (ITU-R BT.601), composited over white when it is transparent.
export function luminance(r: number, g: number, b: number, a = 255): number {
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  return Math.round((y * a + 255 * (255 - a)) / 255);
}

/// The model's bytes from a `side`×`side` RGBA buffer: luminance, inverted when the border (the
/// background) is mostly light, so the background reads 0 whichever way the picture was taken.
export function toModelPixels(rgba: ArrayLike<number>, side = SIDE, opts: { transparentIsBackground?: boolean } = {}): Uint8Array {
  if (rgba.length !== side * side * 4) throw new Error(`expected ${side}×${side} RGBA (${side * side * 4} values), got ${rgba.length}`);
  const gray = new Uint8Array(side * side);
  for (let i = 0; i < side * side; i++) {
    const a = rgba[i * 4 + 3];
    // A drawing on a transparent canvas: no paint is background (black), paint keeps its value.
    gray[i] = opts.transparentIsBackground && a === 0 ? 0 : luminance(rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2], opts.transparentIsBackground ? 255 : a);
  }
  if (opts.transparentIsBackground) return gray;
  let border = 0;
  let n = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (y === 0 || x === 0 || y === side - 1 || x === side - 1) {
        border += gray[y * side + x];
        n++;
      }
    }
  }
  if (border / n > 127) for (let i = 0; i < gray.length; i++) gray[i] = 255 - gray[i];
  return gray;
}

/// Base64 of the bytes (what `/predict` takes as `pixels`).
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/// `keccak256(pixels)`: the request's `inputHash`, binding the payment to this image.
export function inputHash(pixels: Uint8Array): Hex {
  if (pixels.length !== PIXELS) throw new Error(`a prediction input is ${PIXELS} bytes, not ${pixels.length}`);
  return keccak256(pixels);
}

/// Whether anything is drawn or shown (a blank input would be paid for nothing).
export function hasInk(pixels: Uint8Array, threshold = 16): boolean {
  return pixels.some((v) => v > threshold);
}
