/**
 * Bytes received so far, while uploading, as the upload's Durable Object has
 * stored them (it does not wait for a chunk in flight, unlike a tus HEAD).
 */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { readUploadProgress } from "../upload/progress.ts";
import type { UploadProgress } from "./status.ts";

export async function uploadProgress(env: Env, episode: Episode): Promise<UploadProgress | undefined> {
  try {
    return await readUploadProgress(env, episode.podcastId, episode.episodeId);
  } catch {
    // Progress is a nicety: the state is known without it.
    return undefined;
  }
}
