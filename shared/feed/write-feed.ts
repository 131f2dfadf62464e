/**
 * Builds a show's feed from its records and writes it: the one way feeds are
 * made, by the processor (after publishing) and by the edge (after an edit,
 * unpublish, delete, or when a scheduled episode falls due).
 *
 * Concurrency: writers never merge into the old feed; each renders from the
 * podcast record and every feed entry as they are in storage. After writing,
 * it reads them again: if anything changed meanwhile (another episode
 * published, an edit), it renders and writes again. The last writer therefore
 * always checks after its own write, so the feed that stays is one rendered
 * from the latest records: no item lost, none duplicated (entries are one key
 * per episode).
 */
import { podcastCategories, publicPodcast, type Podcast } from "../podcast.ts";
import { assertId, keys } from "../storage-keys.ts";
import { parsePublishedEpisode, type PublishedEpisode } from "./published-episode.ts";
import { FEED_CONTENT_TYPE, renderFeed } from "./rss.ts";

/** What feed writing needs from storage: the processor's ObjectStore and the edge's R2 adapter both have it. */
export interface FeedStore {
  getJson<T>(key: string): Promise<T | undefined>;
  putText(key: string, body: string, opts: { contentType: string; cacheControl?: string }): Promise<void>;
  listKeys(prefix: string): Promise<string[]>;
}

/** Apps poll feeds: short enough that edits show within a minute. */
export const FEED_CACHE_CONTROL = "public, max-age=60";

/** Where the edge's scheduled task finds shows with episodes still to fall due. */
export const scheduleKeys = {
  prefix: "state/schedule/",
  show: (podcastId: string) => `state/schedule/${assertId("podcast", podcastId)}.json`,
};

export interface FeedWritten {
  /** Episodes in the feed now. */
  episodes: number;
  /** The earliest date of an entry not yet due (ISO), if any. */
  nextDue?: string;
}

const MAX_ROUNDS = 6;

export async function writeFeed(
  store: FeedStore,
  podcastId: string,
  publicBaseUrl: string,
  now: () => Date = () => new Date(),
): Promise<FeedWritten> {
  let seen = await readShow(store, podcastId);
  for (let round = 1; ; round++) {
    if (!seen.podcast) throw new Error(`podcast ${podcastId} does not exist`);
    const at = now();
    const xml = renderFeed({
      podcast: publicPodcast({ ...seen.podcast, categories: podcastCategories(seen.podcast) }),
      episodes: seen.episodes,
      publicBaseUrl,
      now: at,
    });
    await store.putText(keys.feed(podcastId), xml, { contentType: FEED_CONTENT_TYPE, cacheControl: FEED_CACHE_CONTROL });
    const future = seen.episodes
      .filter((e) => Date.parse(e.publishedAt) > at.getTime())
      .map((e) => e.publishedAt)
      .sort();
    const nextDue = future[0];
    if (nextDue)
      await store.putText(scheduleKeys.show(podcastId), JSON.stringify({ podcastId, nextDue }), { contentType: "application/json" });

    const after = await readShow(store, podcastId);
    if (after.fingerprint === seen.fingerprint) return { episodes: seen.episodes.length - future.length, ...(nextDue ? { nextDue } : {}) };
    if (round >= MAX_ROUNDS)
      throw new Error(`feed ${podcastId}: records kept changing for ${MAX_ROUNDS} rounds; the next change rewrites it`);
    seen = after;
  }
}

interface ShowState {
  podcast: Podcast | undefined;
  episodes: PublishedEpisode[];
  /** Everything the feed is rendered from, as read: equal fingerprints render equal feeds. */
  fingerprint: string;
}

async function readShow(store: FeedStore, podcastId: string): Promise<ShowState> {
  const prefix = keys.publishedPrefix(podcastId);
  const [podcast, listed] = await Promise.all([store.getJson<Podcast>(keys.podcast(podcastId)), store.listKeys(prefix)]);
  const entryKeys = listed.sort();
  const values = await Promise.all(entryKeys.map((k) => store.getJson<unknown>(k)));
  const episodes: PublishedEpisode[] = [];
  values.forEach((value, i) => {
    if (value === undefined) return;
    try {
      episodes.push(parsePublishedEpisode(value));
    } catch (err) {
      // One damaged entry must not take the whole feed down: it is left out and reported.
      console.error(`feed ${podcastId}: skipping ${entryKeys[i]}: ${(err as Error).message}`);
    }
  });
  return { podcast, episodes, fingerprint: JSON.stringify([podcast ?? null, entryKeys, values]) };
}
