/**
 * The podcast's cover art, fetched for embedding (ID3 APIC, MP4 covr). Bounded
 * in time and size, and only JPEG or PNG (what ID3 and MP4 players show). A
 * failure is returned, never thrown: missing art must not fail an episode.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";

export const ARTWORK_TIMEOUT_MS = 10_000;
/** Apple's largest artwork (3000 x 3000 JPEG) is typically 1-3 MB. */
export const ARTWORK_MAX_BYTES = 5 * 1024 * 1024;

export type Artwork = { path: string; mimeType: "image/jpeg" | "image/png"; bytes: number } | { error: string };

function kindOf(head: Uint8Array): "image/jpeg" | "image/png" | undefined {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return "image/png";
  return undefined;
}

export async function fetchArtwork(
  url: string,
  dir: string,
  opts: { signal?: AbortSignal; timeoutMs?: number; maxBytes?: number } = {},
): Promise<Artwork> {
  const { timeoutMs = ARTWORK_TIMEOUT_MS, maxBytes = ARTWORK_MAX_BYTES } = opts;
  const signals = [AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  try {
    if (!/^https?:\/\//i.test(url)) return { error: "artwork URL is not http(s)" };
    const res = await fetch(url, { signal: AbortSignal.any(signals), redirect: "follow" });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return { error: `artwork fetch answered HTTP ${res.status}` };
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) {
      await res.body.cancel();
      return { error: `artwork is ${declared} bytes; the limit is ${maxBytes}` };
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of res.body) {
      bytes += chunk.length;
      if (bytes > maxBytes) return { error: `artwork is over the ${maxBytes}-byte limit` };
      chunks.push(chunk);
    }
    const data = Buffer.concat(chunks);
    const mimeType = kindOf(data);
    if (!mimeType) return { error: "artwork is neither JPEG nor PNG" };
    const file = path.join(dir, mimeType === "image/png" ? "cover.png" : "cover.jpg");
    await writeFile(file, data);
    return { path: file, mimeType, bytes };
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === "TimeoutError") return { error: `artwork fetch timed out after ${timeoutMs} ms` };
    if (opts.signal?.aborted) throw err;
    return { error: `artwork fetch failed: ${(err as Error)?.message ?? String(err)}`.slice(0, 200) };
  }
}
