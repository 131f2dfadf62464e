/**
 * Cover art is fetched and checked when a show sets it, because Apple refuses
 * a feed whose artwork is not 1400-3000 px square JPEG/PNG in RGB, and says
 * so only days later. Only the first bytes are read (the header has the size).
 */
import { readImageHeader, type ImageHeader } from "./image-header.ts";

export const ARTWORK_RULE = { minPx: 1400, maxPx: 3000 } as const;
const TIMEOUT_MS = 10_000;
/** A JPEG's frame header follows its metadata (EXIF, ICC profile): look this far at most. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** The image's header if it is acceptable cover art; otherwise a message for the creator (without the field name). */
export async function checkArtwork(url: string, fetcher: typeof fetch = fetch): Promise<ImageHeader | string> {
  let res: Response;
  try {
    res = await fetcher(url, { headers: { Accept: "image/jpeg, image/png" }, redirect: "follow", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const why = (err as Error).name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : "the server could not be reached";
    return `could not be fetched: ${why}`;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return `could not be fetched: HTTP ${res.status}`;
  }
  const header = await readHeader(res.body);
  if (header === undefined) return "is not a JPEG or PNG image";
  if (header === "short") return "is not a complete JPEG or PNG image (no size found in its first 1 MiB)";
  const { width, height, format, colour } = header;
  const size = `${width}x${height} px`;
  if (width !== height) return `must be square; it is ${size}`;
  if (width < ARTWORK_RULE.minPx || width > ARTWORK_RULE.maxPx) {
    return `must be ${ARTWORK_RULE.minPx}-${ARTWORK_RULE.maxPx} px square; it is ${size}`;
  }
  if (colour !== "rgb")
    return `must be in the RGB colour space; this ${format.toUpperCase()} is ${colour === "grey" ? "greyscale" : colour}`;
  return header;
}

async function readHeader(body: ReadableStream<Uint8Array>): Promise<ImageHeader | "short" | undefined> {
  const reader = body.getReader();
  let bytes = new Uint8Array(0);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (value) {
        const next = new Uint8Array(bytes.length + value.length);
        next.set(bytes);
        next.set(value, bytes.length);
        bytes = next;
      }
      const header = readImageHeader(bytes);
      if (header !== "short" || done || bytes.length >= MAX_HEADER_BYTES) return header;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
