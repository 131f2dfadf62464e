/**
 * How far an upload has got, for the rest of the edge (episode status pages).
 * Asks the upload's Durable Object directly, without waiting for a running
 * chunk (unlike tus HEAD): the answer is what is stored so far.
 */
import type { Env } from "../env.ts";
import { PODCAST_HEADER } from "./protocol.ts";

export interface StoredProgress {
  bytesReceived: number;
  /** Absent while the length is deferred. */
  totalBytes?: number;
}

/** Internal request method the Worker never forwards from clients. */
export const PROGRESS_METHOD = "GET";

export async function readUploadProgress(env: Env, podcastId: string, episodeId: string): Promise<StoredProgress | undefined> {
  const stub = env.UPLOADS.get(env.UPLOADS.idFromName(episodeId));
  const res = await stub.fetch(`https://upload.internal/uploads/${episodeId}`, {
    method: PROGRESS_METHOD,
    headers: { [PODCAST_HEADER]: podcastId },
  });
  if (res.status !== 200) {
    await res.body?.cancel();
    return undefined;
  }
  return (await res.json()) as StoredProgress;
}
