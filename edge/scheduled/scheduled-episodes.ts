/**
 * Scheduled episodes enter their feed when due. A feed write that leaves out
 * an entry dated in the future records the show under state/schedule/ with
 * the earliest such date (shared/feed/write-feed.ts); each tick rewrites the
 * feeds of the shows whose date has come, and forgets a show once nothing of
 * it is left to fall due.
 */
import type { Env } from "../env.ts";
import { scheduleKeys } from "../../shared/feed/write-feed.ts";
import { rebuildFeed } from "../delivery/feed-store.ts";

export async function publishDueEpisodes(env: Env, now: Date): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await env.MEDIA.list({ prefix: scheduleKeys.prefix, ...(cursor ? { cursor } : {}) });
    for (const obj of page.objects) {
      const marker = await env.MEDIA.get(obj.key);
      if (!marker) continue;
      const { podcastId, nextDue } = (await marker.json()) as { podcastId: string; nextDue: string };
      if (Date.parse(nextDue) > now.getTime()) continue;
      try {
        // The clock a tick runs on, not the marker's: an episode due by now is in.
        const written = await rebuildFeed(env, podcastId, () => new Date(Math.max(Date.now(), now.getTime())));
        if (!written.nextDue) {
          await env.MEDIA.delete(obj.key);
          // An episode scheduled while this ran may have had its marker deleted just now: one more
          // rebuild after the delete writes it again if any entry is still ahead.
          await rebuildFeed(env, podcastId);
        }
      } catch (err) {
        console.error(`scheduled episodes of ${podcastId}:`, err instanceof Error ? err.message : String(err));
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
