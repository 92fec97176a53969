import { keccak256 } from "viem";
import { describe, expect, it } from "vitest";
import { fitInto, hasInk, inputHash, luminance, PIXELS, SIDE, toBase64, toModelPixels } from "./flImage";

/// A `side`×`side` RGBA image: `bg` everywhere, `fg` in the centre square.
function picture(bg: [number, number, number, number], fg: [number, number, number, number], side = SIDE): Uint8ClampedArray {
  const out = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const c = x >= 10 && x < 18 && y >= 10 && y < 18 ? fg : bg;
      out.set(c, (y * side + x) * 4);
    }
  }
  return out;
}

describe("fitting an image into 28×28", () => {
  it("keeps proportions and centres", () => {
    expect(fitInto(56, 56)).toEqual({ dx: 0, dy: 0, dw: 28, dh: 28 });
    expect(fitInto(200, 100)).toEqual({ dx: 0, dy: 7, dw: 28, dh: 14 });
    expect(fitInto(10, 40)).toEqual({ dx: 10.5, dy: 0, dw: 7, dh: 28 });
    expect(() => fitInto(0, 10)).toThrow(/image size/);
  });
});

describe("the model's pixels", () => {
  it("weighs colours as luminance and composites transparency over white", () => {
    expect(luminance(255, 255, 255)).toBe(255);
    expect(luminance(0, 0, 0)).toBe(0);
    expect(luminance(255, 0, 0)).toBe(76);
    expect(luminance(0, 0, 0, 0)).toBe(255);
  });

  it("keeps a light object on black as it is (Fashion-MNIST's convention)", () => {
    const px = toModelPixels(picture([0, 0, 0, 255], [200, 200, 200, 255]));
    expect(px.length).toBe(PIXELS);
    expect(px[0]).toBe(0);
    expect(px[14 * SIDE + 14]).toBe(200);
  });

  it("inverts a photo on a light background so the background reads 0", () => {
    const px = toModelPixels(picture([250, 250, 250, 255], [20, 20, 20, 255]));
    expect(px[0]).toBe(5);
    expect(px[14 * SIDE + 14]).toBe(235);
    // A transparent PNG's background counts as white, then inverted to 0.
    const png = toModelPixels(picture([0, 0, 0, 0], [0, 0, 0, 255]));
    expect(png[0]).toBe(0);
    expect(png[14 * SIDE + 14]).toBe(255);
  });

  it("reads a drawing on a transparent canvas: no paint is background", () => {
    const px = toModelPixels(picture([0, 0, 0, 0], [255, 255, 255, 255]), SIDE, { transparentIsBackground: true });
    expect(px[0]).toBe(0);
    expect(px[14 * SIDE + 14]).toBe(255);
    expect(hasInk(px)).toBe(true);
    expect(hasInk(new Uint8Array(PIXELS))).toBe(false);
  });

  it("refuses a buffer of the wrong size", () => {
    expect(() => toModelPixels(new Uint8ClampedArray(10))).toThrow(/RGBA/);
    expect(() => inputHash(new Uint8Array(10))).toThrow(/784/);
  });

  it("sends 784 bytes as base64 and hashes exactly those bytes", () => {
    const px = new Uint8Array(PIXELS).map((_, i) => i % 256);
    const b64 = toBase64(px);
    expect(b64.length).toBe(1048);
    expect(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))).toEqual(px);
    expect(inputHash(px)).toBe(keccak256(px));
    expect(inputHash(new Uint8Array(PIXELS))).toBe(keccak256(new Uint8Array(PIXELS)));
  });
});
