/**
 * A show's episodes, findable again: one empty marker per episode under the
 * show, named so that R2's lexicographic listing gives newest first
 * (inverted creation time, then the id). Written when the upload starts.
 */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { assertId } from "../../shared/storage-keys.ts";
import { readEpisode } from "./store.ts";
import { episodeView, type EpisodeView } from "./episode-view.ts";

const LATEST = 9_999_999_999_999;

export const episodeIndex = {
  prefix: (podcastId: string) => `state/podcasts/${assertId("podcast", podcastId)}/episodes/`,
  key: (podcastId: string, createdAt: string, episodeId: string) =>
    `${episodeIndex.prefix(podcastId)}${String(LATEST - Date.parse(createdAt)).padStart(13, "0")}_${assertId("episode", episodeId)}`,
};

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
