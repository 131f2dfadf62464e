/** The episode record in R2 (keys.episode): the edge writes it around the upload and the queue; the processor during processing. */
import { keys } from "../../shared/storage-keys.ts";
import type { Episode } from "../../shared/episode.ts";
import { readRecord, writeRecord } from "../records.ts";

export const readEpisode = (bucket: R2Bucket, episodeId: string) => readRecord<Episode>(bucket, keys.episode(episodeId));

export const writeEpisode = (bucket: R2Bucket, episode: Episode) => writeRecord(bucket, keys.episode(episode.episodeId), episode);

export async function deleteEpisode(bucket: R2Bucket, episodeId: string): Promise<void> {
  await bucket.delete(keys.episode(episodeId));
}
