/**
 * Episodes by state without reading every record: each episode record object
 * carries its state, podcast and last update as custom metadata
 * (shared/episode-lifecycle.ts `episodeIndex`, written by both services), and
 * an R2 listing returns it. Used by the sweep and the operators' listing.
 */
import type { EpisodeState } from "../../shared/episode.ts";

export interface IndexedEpisode {
  episodeId: string;
  podcastId?: string;
  state?: EpisodeState;
  updatedAt?: string;
}

const PREFIX = "state/episodes/";

export async function* listEpisodeIndex(bucket: R2Bucket): AsyncGenerator<IndexedEpisode> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: PREFIX, cursor, include: ["customMetadata"] });
    for (const o of page.objects) {
      if (!o.key.endsWith(".json")) continue;
      const m = o.customMetadata ?? {};
      yield {
        episodeId: o.key.slice(PREFIX.length, -".json".length),
        ...(m.podcastid ? { podcastId: m.podcastid } : {}),
        ...(m.state ? { state: m.state as EpisodeState } : {}),
        ...(m.updatedat ? { updatedAt: m.updatedat } : {}),
      };
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
