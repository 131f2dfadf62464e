/**
 * Bytes received so far, while uploading: asked of the upload's Durable
 * Object with the same HEAD a tus client sends to resume (its public
 * behaviour), never by reading its storage.
 */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { PODCAST_HEADER, TUS_VERSION } from "../upload/protocol.ts";
import type { UploadProgress } from "./status.ts";

export async function uploadProgress(env: Env, episode: Episode): Promise<UploadProgress | undefined> {
  try {
    const stub = env.UPLOADS.get(env.UPLOADS.idFromName(episode.episodeId));
    const res = await stub.fetch(
      new Request(`https://edge.internal/uploads/${episode.episodeId}`, {
        method: "HEAD",
        headers: { "Tus-Resumable": TUS_VERSION, [PODCAST_HEADER]: episode.podcastId },
      }),
    );
    await res.body?.cancel();
    const offset = Number(res.headers.get("Upload-Offset"));
    if (res.status !== 200 || !Number.isSafeInteger(offset)) return undefined;
    const length = res.headers.get("Upload-Length");
    return { bytesReceived: offset, ...(length !== null && Number.isSafeInteger(Number(length)) ? { totalBytes: Number(length) } : {}) };
  } catch {
    // Progress is a nicety: the state is known without it.
    return undefined;
  }
}
