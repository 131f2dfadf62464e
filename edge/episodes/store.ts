/** The episode record in R2 (keys.episode): the edge writes it around the upload and the queue; the processor during processing. */
import { keys } from "../../shared/storage-keys.ts";
import type { Episode } from "../../shared/episode.ts";
import { episodeIndex } from "../../shared/episode-lifecycle.ts";
import { readRecord } from "../records.ts";

export const readEpisode = (bucket: R2Bucket, episodeId: string) => readRecord<Episode>(bucket, keys.episode(episodeId));

/** With its state as custom metadata: the sweep and operators list by state without reading every record. */
export async function writeEpisode(bucket: R2Bucket, episode: Episode): Promise<void> {
  await bucket.put(keys.episode(episode.episodeId), JSON.stringify(episode), {
    httpMetadata: { contentType: "application/json" },
    customMetadata: episodeIndex(episode),
  });
}

export async function deleteEpisode(bucket: R2Bucket, episodeId: string): Promise<void> {
  await bucket.delete(keys.episode(episodeId));
}
