// Cover-art headers read from the first bytes (edge/podcasts/image-header.ts): the cases a
// real image server in test/edge/show-management.test.ts cannot easily serve, built byte by byte.
import { describe, expect, it } from "vitest";
import { readImageHeader } from "../../edge/podcasts/image-header.ts";

const u16 = (n: number) => [n >> 8, n & 0xff];
const segment = (marker: number, payload: number[]) => [0xff, marker, ...u16(payload.length + 2), ...payload];
const sof = (marker: number, width: number, height: number, components: number) =>
  segment(marker, [8, ...u16(height), ...u16(width), components]);
const jpeg = (...segments: number[][]) => Uint8Array.from([0xff, 0xd8, ...segments.flat()]);

describe("readImageHeader", () => {
  it("finds a JPEG's frame header after large metadata (EXIF, ICC)", () => {
    const exif = segment(0xe1, Array(60_000).fill(0x41));
    const icc = segment(0xe2, Array(30_000).fill(0x42));
    expect(readImageHeader(jpeg(exif, icc, sof(0xc0, 1400, 1400, 3)))).toEqual({
      format: "jpeg",
      width: 1400,
      height: 1400,
      colour: "rgb",
    });
  });

  it("reads progressive JPEGs and tells CMYK and greyscale apart", () => {
    expect(readImageHeader(jpeg(sof(0xc2, 3000, 3000, 3)))).toMatchObject({ width: 3000, colour: "rgb" });
    expect(readImageHeader(jpeg(sof(0xc0, 1500, 1500, 4)))).toMatchObject({ colour: "cmyk" });
    expect(readImageHeader(jpeg(sof(0xc1, 1500, 1500, 1)))).toMatchObject({ colour: "grey" });
  });

  it("skips the Huffman table marker (C4), which is not a frame", () => {
    expect(readImageHeader(jpeg(segment(0xc4, [0, 1, 2]), sof(0xc0, 2000, 2000, 3)))).toMatchObject({ width: 2000 });
  });

  it("asks for more bytes when the header is not there yet, and refuses what is neither JPEG nor PNG", () => {
    expect(readImageHeader(jpeg(segment(0xe1, Array(100).fill(0))).slice(0, 50))).toBe("short");
    expect(readImageHeader(new TextEncoder().encode("<html>not an image</html>"))).toBeUndefined();
    expect(readImageHeader(Uint8Array.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 0, 0, 0]))).toBeUndefined(); // GIF
  });

  it("reads a PNG's IHDR: size and colour type", () => {
    const png = (colourType: number) =>
      Uint8Array.from([
        0x89,
        0x50,
        0x4e,
        0x47,
        0x0d,
        0x0a,
        0x1a,
        0x0a,
        0,
        0,
        0,
        13,
        0x49,
        0x48,
        0x44,
        0x52,
        0,
        0,
        0x05,
        0x78,
        0,
        0,
        0x05,
        0x78,
        8,
        colourType,
        0,
        0,
        0,
      ]);
    expect(readImageHeader(png(2))).toEqual({ format: "png", width: 1400, height: 1400, colour: "rgb" });
    expect(readImageHeader(png(6))).toMatchObject({ colour: "rgb" });
    expect(readImageHeader(png(0))).toMatchObject({ colour: "grey" });
    expect(readImageHeader(png(3))).toMatchObject({ colour: "palette" });
  });
});
