/** The episode record in R2 (keys.episode): the edge writes it around the upload and the queue; the processor during processing. */
import { keys } from "../../shared/storage-keys.ts";
import type { Episode } from "../../shared/episode.ts";
import { episodeIndex } from "../../shared/episode-lifecycle.ts";
import { readRecord } from "../records.ts";
import { updateRecord } from "../update-record.ts";

export const readEpisode = (bucket: R2Bucket, episodeId: string) => readRecord<Episode>(bucket, keys.episode(episodeId));

/** With its state as custom metadata: the sweep and operators list by state without reading every record. */
export async function writeEpisode(bucket: R2Bucket, episode: Episode): Promise<void> {
  await bucket.put(keys.episode(episode.episodeId), JSON.stringify(episode), {
    httpMetadata: { contentType: "application/json" },
    customMetadata: episodeIndex(episode),
  });
}

/** Read-modify-write that keeps a concurrent writer's change (edge/update-record.ts) and the index's state. */
export const updateEpisode = (bucket: R2Bucket, episodeId: string, change: (current: Episode) => Episode | Promise<Episode>) =>
  updateRecord<Episode>(bucket, keys.episode(episodeId), change, { customMetadata: episodeIndex });

/** The record with the version it was read at, for a write that must not overwrite a newer one. */
export async function readEpisodeVersion(bucket: R2Bucket, episodeId: string): Promise<{ episode: Episode; etag: string } | null> {
  const obj = await bucket.get(keys.episode(episodeId));
  return obj ? { episode: (await obj.json()) as Episode, etag: obj.etag } : null;
}

/** Writes `episode` only if the stored record is still the version `etag`; false when another writer came first. */
export async function writeEpisodeIfUnchanged(bucket: R2Bucket, episode: Episode, etag: string): Promise<boolean> {
  const written = await bucket.put(keys.episode(episode.episodeId), JSON.stringify(episode), {
    httpMetadata: { contentType: "application/json" },
    customMetadata: episodeIndex(episode),
    onlyIf: { etagMatches: etag },
  });
  return written !== null;
}

export async function deleteEpisode(bucket: R2Bucket, episodeId: string): Promise<void> {
  await bucket.delete(keys.episode(episodeId));
}
