/**
 * Keeps an episode's feed entry (keys.published) in step with its record and
 * re-renders the show's feed. The entry is written from the record as read;
 * if the record changed while the entry was being written (a second edit), it
 * is written again from the newer record, so the entry never ends older than
 * the record.
 */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { publishedEpisodeFrom } from "../../shared/feed/published-episode.ts";
import { keys } from "../../shared/storage-keys.ts";
import { rebuildFeed } from "../delivery/feed-store.ts";

/** Whether the episode belongs in its show's feed (now or when its date comes). */
export function belongsInFeed(e: Episode): boolean {
  return e.state === "published" && !e.details?.unpublishedAt;
}

export async function syncFeedEntry(env: Env, episodeId: string): Promise<void> {
  let podcastId: string | undefined;
  for (let round = 0; round < 6; round++) {
    const obj = await env.MEDIA.get(keys.episode(episodeId));
    if (!obj) break;
    const record = (await obj.json()) as Episode;
    podcastId = record.podcastId;
    const entryKey = keys.published(record.podcastId, episodeId);
    if (belongsInFeed(record)) {
      await env.MEDIA.put(entryKey, JSON.stringify(publishedEpisodeFrom(record)), { httpMetadata: { contentType: "application/json" } });
    } else {
      await env.MEDIA.delete(entryKey);
    }
    const after = await env.MEDIA.head(keys.episode(episodeId));
    if (!after || after.etag === obj.etag) break;
  }
  if (podcastId) await rebuildFeed(env, podcastId);
}
