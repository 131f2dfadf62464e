/** Writing, removing and listing a show's episode markers (shared/episode-index.ts). */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { episodeIndex } from "../../shared/episode-index.ts";
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

export async function listShowEpisodes(env: Env, podcastId: string, limit: number, cursor: string | undefined): Promise<EpisodePage | string> {
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
