/** The episode record in R2 (keys.episode): the edge writes it around the upload and the queue; the processor during processing. */
import { keys } from "../../shared/storage-keys.ts";
import type { Episode } from "../../shared/episode.ts";

export async function readEpisode(bucket: R2Bucket, episodeId: string): Promise<Episode | null> {
  const obj = await bucket.get(keys.episode(episodeId));
  return obj ? ((await obj.json()) as Episode) : null;
}

export async function writeEpisode(bucket: R2Bucket, episode: Episode): Promise<void> {
  await bucket.put(keys.episode(episode.episodeId), JSON.stringify(episode), {
    httpMetadata: { contentType: "application/json" },
  });
}

export async function deleteEpisode(bucket: R2Bucket, episodeId: string): Promise<void> {
  await bucket.delete(keys.episode(episodeId));
}
