/**
 * The edge's side of feed writing: the R2 binding seen as the small store
 * shared/feed/write-feed.ts needs, and the one call every edge change makes.
 */
import type { Env } from "../env.ts";
import { writeFeed, type FeedStore, type FeedWritten } from "../../shared/feed/write-feed.ts";

export function r2FeedStore(bucket: R2Bucket): FeedStore {
  return {
    async getJson<T>(key: string) {
      const obj = await bucket.get(key);
      return obj ? ((await obj.json()) as T) : undefined;
    },
    async putText(key, body, opts) {
      await bucket.put(key, body, {
        httpMetadata: { contentType: opts.contentType, ...(opts.cacheControl ? { cacheControl: opts.cacheControl } : {}) },
      });
    },
    async version(key) {
      return (await bucket.head(key))?.etag;
    },
    async putTextIf(key, body, opts, version) {
      const written = await bucket.put(key, body, {
        httpMetadata: { contentType: opts.contentType, ...(opts.cacheControl ? { cacheControl: opts.cacheControl } : {}) },
        onlyIf: { etagMatches: version },
      });
      return written !== null;
    },
    async listKeys(prefix) {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
        out.push(...page.objects.map((o) => o.key));
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return out;
    },
  };
}

/** Re-renders a show's feed from its records (after an edit, unpublish, delete, or a scheduled episode falling due). */
export function rebuildFeed(env: Env, podcastId: string, now?: () => Date): Promise<FeedWritten> {
  return writeFeed(r2FeedStore(env.MEDIA), podcastId, env.PUBLIC_BASE_URL, now);
}
