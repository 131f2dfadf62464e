/**
 * Size, format and colour model of a JPEG or PNG from its first bytes, so
 * cover art can be checked without decoding (or even downloading) all of it.
 */
export interface ImageHeader {
  format: "jpeg" | "png";
  width: number;
  height: number;
  /** "rgb" for truecolour PNG (with or without alpha) and 3-component JPEG. */
  colour: "rgb" | "grey" | "palette" | "cmyk" | "other";
}

/** The header, "short" if more bytes are needed to find it, or undefined if this is neither JPEG nor PNG. */
export function readImageHeader(b: Uint8Array): ImageHeader | "short" | undefined {
  if (b.length < 8) return "short";
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return png(b);
  if (b[0] === 0xff && b[1] === 0xd8) return jpeg(b);
  return undefined;
}

const u32 = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const u16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;

function png(b: Uint8Array): ImageHeader | "short" | undefined {
  if (b.length < 26) return "short";
  // Signature (8), then the IHDR chunk: length (4), "IHDR" (4), width, height, bit depth, colour type.
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== "IHDR") return undefined;
  const colourType = b[25]!;
  const colour =
    colourType === 2 || colourType === 6 ? "rgb" : colourType === 0 || colourType === 4 ? "grey" : colourType === 3 ? "palette" : "other";
  return { format: "png", width: u32(b, 16), height: u32(b, 20), colour };
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8, CC are not frames. */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpeg(b: Uint8Array): ImageHeader | "short" | undefined {
  let i = 2;
  while (true) {
    if (i + 4 > b.length) return "short";
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / scan before any frame header
    const length = u16(b, i + 2);
    if (SOF.has(marker)) {
      if (i + 10 > b.length) return "short";
      const components = b[i + 9]!;
      const colour = components === 3 ? "rgb" : components === 1 ? "grey" : components === 4 ? "cmyk" : "other";
      return { format: "jpeg", height: u16(b, i + 5), width: u16(b, i + 7), colour };
    }
    i += 2 + length;
  }
}
