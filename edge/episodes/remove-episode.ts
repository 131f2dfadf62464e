/**
 * Deleting an episode for good: out of the feed first (so no app is pointed
 * at media about to vanish), then its public files, its upload, its feed
 * entry, index marker and record. Used by DELETE /episodes/:id and by a tus
 * DELETE on a finished upload.
 */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { keys } from "../../shared/storage-keys.ts";
import { rebuildFeed } from "../delivery/feed-store.ts";
import { unindexEpisode } from "./episode-index.ts";

/** States in which the processor owns the record: changing it then would race the pipeline. */
export function inPipeline(e: Episode): boolean {
  return e.state === "queued" || e.state === "processing";
}

export async function removeEpisode(env: Env, episode: Episode): Promise<void> {
  const { podcastId, episodeId } = episode;
  await env.MEDIA.delete(keys.published(podcastId, episodeId));
  await rebuildFeed(env, podcastId);
  await deletePrefix(env.MEDIA, keys.publicPrefix(podcastId, episodeId));
  await deletePrefix(env.MEDIA, keys.uploadPrefix(podcastId, episodeId));
  await unindexEpisode(env.MEDIA, episode);
  await env.MEDIA.delete(keys.episode(episodeId));
}

async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<void> {
  // Listed afresh each round: what was deleted is gone from the next listing.
  for (;;) {
    const page = await bucket.list({ prefix });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    if (!page.truncated) return;
  }
}
