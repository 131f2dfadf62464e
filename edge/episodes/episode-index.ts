/** Writing, removing and listing a show's episode markers (shared/episode-index.ts). */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { episodeIndex } from "../../shared/episode-index.ts";
import type { Podcast } from "../../shared/podcast.ts";
import { keys } from "../../shared/storage-keys.ts";
import { updateRecord } from "../update-record.ts";
import { readEpisode } from "./store.ts";
import { episodeView, type EpisodeView } from "./episode-view.ts";

export async function indexEpisode(bucket: R2Bucket, e: Pick<Episode, "podcastId" | "createdAt" | "episodeId">): Promise<void> {
  await bucket.put(episodeIndex.key(e.podcastId, e.createdAt, e.episodeId), "");
}

export async function unindexEpisode(bucket: R2Bucket, e: Pick<Episode, "podcastId" | "createdAt" | "episodeId">): Promise<void> {
  await bucket.delete(episodeIndex.key(e.podcastId, e.createdAt, e.episodeId));
}

export interface EpisodePage {
  episodes: EpisodeView[];
  nextCursor?: string;
}

export async function listShowEpisodes(
  env: Env,
  podcast: Podcast,
  limit: number,
  cursor: string | undefined,
): Promise<EpisodePage | string> {
  const { podcastId } = podcast;
  if (!podcast.episodesIndexedAt) await backfillIndex(env, podcast);
  let page: R2Objects;
  try {
    page = await env.MEDIA.list({ prefix: episodeIndex.prefix(podcastId), limit, ...(cursor ? { cursor } : {}) });
  } catch {
    return "cursor is not valid: use nextCursor from the previous page";
  }
  const ids = page.objects.map((o) => o.key.slice(o.key.lastIndexOf("_") + 1));
  const records = await Promise.all(ids.map((id) => readEpisode(env.MEDIA, id)));
  const now = new Date();
  return {
    // A marker whose record is gone (deleted meanwhile) is skipped.
    episodes: records.filter((e): e is Episode => e !== null && e.podcastId === podcastId).map((e) => episodeView(e, now)),
    ...(page.truncated ? { nextCursor: page.cursor } : {}),
  };
}

/**
 * Shows older than the index: every episode that reached storage has its
 * upload folder (uploads/{podcast}/{episode}/), so one delimited listing finds
 * them all; each gets its marker (an idempotent put), then the show is marked
 * indexed. Uploads started since the index existed were indexed when they began.
 */
async function backfillIndex(env: Env, podcast: Podcast): Promise<void> {
  const prefix = `uploads/${podcast.podcastId}/`;
  let cursor: string | undefined;
  do {
    const page = await env.MEDIA.list({ prefix, delimiter: "/", ...(cursor ? { cursor } : {}) });
    const ids = page.delimitedPrefixes.map((p) => p.slice(prefix.length, -1));
    const records = await Promise.all(ids.map((id) => readEpisode(env.MEDIA, id).catch(() => null)));
    await Promise.all(
      records.filter((e): e is Episode => e !== null && e.podcastId === podcast.podcastId).map((e) => indexEpisode(env.MEDIA, e)),
    );
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  await updateRecord<Podcast>(env.MEDIA, keys.podcast(podcast.podcastId), (current) => ({
    ...current,
    episodesIndexedAt: new Date().toISOString(),
  }));
}
