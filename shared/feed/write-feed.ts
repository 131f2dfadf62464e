/**
 * Builds a show's feed from its records and writes it: the one way feeds are
 * made, by the processor (after publishing) and by the edge (after an edit,
 * unpublish, delete, or when a scheduled episode falls due).
 *
 * Concurrency: writers never merge into the old feed; each renders from the
 * podcast record and every feed entry as they are in storage, read after the
 * feed's version, and writes only over that version (a conditional put). So
 * a write that lands was rendered from records read after every earlier feed
 * was written, and no later write can leave out an entry an earlier one had:
 * once an episode's writer returns, every feed served holds it. (Before, two
 * concurrent writers could put a stale render last, and a published episode
 * was missing from the feed until the slower writer re-read and wrote
 * again.) A writer that loses the race renders again from what is there
 * now. The very first feed of a show is written unconditionally, then
 * checked: if the records changed meanwhile, it is rendered and written
 * again, conditionally.
 */
import { podcastCategories, publicPodcast, type Podcast } from "../podcast.ts";
import { assertId, keys } from "../storage-keys.ts";
import { parsePublishedEpisode, type PublishedEpisode } from "./published-episode.ts";
import { FEED_CONTENT_TYPE, renderFeed } from "./rss.ts";

/** What feed writing needs from storage: the processor's ObjectStore and the edge's R2 adapter both have it. */
export interface FeedStore {
  getJson<T>(key: string): Promise<T | undefined>;
  putText(key: string, body: string, opts: { contentType: string; cacheControl?: string }): Promise<void>;
  /** The object's current version (ETag), or undefined when there is none. */
  version(key: string): Promise<string | undefined>;
  /** Writes only if the object is still at `version`; false when another writer got there first. */
  putTextIf(key: string, body: string, opts: { contentType: string; cacheControl?: string }, version: string): Promise<boolean>;
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

/** Writers racing for one feed: each round, at least one of them lands. */
const MAX_ROUNDS = 12;

export async function writeFeed(
  store: FeedStore,
  podcastId: string,
  publicBaseUrl: string,
  now: () => Date = () => new Date(),
): Promise<FeedWritten> {
  const feedKey = keys.feed(podcastId);
  const opts = { contentType: FEED_CONTENT_TYPE, cacheControl: FEED_CACHE_CONTROL };
  for (let round = 1; ; round++) {
    // The version first, then the records (see the file comment).
    const version = await store.version(feedKey);
    const seen = await readShow(store, podcastId);
    if (!seen.podcast) throw new Error(`podcast ${podcastId} does not exist`);
    const at = now();
    const xml = renderFeed({
      podcast: publicPodcast({ ...seen.podcast, categories: podcastCategories(seen.podcast) }),
      episodes: seen.episodes,
      publicBaseUrl,
      now: at,
    });
    let landed: boolean;
    if (version !== undefined) landed = await store.putTextIf(feedKey, xml, opts, version);
    else {
      // The show's first feed: nothing to be conditional on. Written, then checked against the records.
      await store.putText(feedKey, xml, opts);
      landed = (await readShow(store, podcastId)).fingerprint === seen.fingerprint;
    }
    if (landed) {
      const future = seen.episodes
        .filter((e) => Date.parse(e.publishedAt) > at.getTime())
        .map((e) => e.publishedAt)
        .sort();
      const nextDue = future[0];
      if (nextDue)
        await store.putText(scheduleKeys.show(podcastId), JSON.stringify({ podcastId, nextDue }), { contentType: "application/json" });
      return { episodes: seen.episodes.length - future.length, ...(nextDue ? { nextDue } : {}) };
    }
    if (round >= MAX_ROUNDS)
      throw new Error(`feed ${podcastId}: other writers kept landing first for ${MAX_ROUNDS} rounds; the next change rewrites it`);
    // Losers of one round would meet again at once: a short random pause spreads them.
    await new Promise((r) => setTimeout(r, Math.random() * 20 * round));
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
