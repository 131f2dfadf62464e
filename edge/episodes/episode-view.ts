/** An episode as its creator manages it: its status plus what it says in the feed and whether it is there. */
import type { Episode } from "../../shared/episode.ts";
import { feedDate, type EpisodeDetails } from "../../shared/episode-details.ts";
import { episodeStatus, type EpisodeStatus } from "./status.ts";
import type { HoneycombLinks } from "./honeycomb-links.ts";

/**
 * Where the episode stands in the feed:
 *  - "listed": in the feed;
 *  - "scheduled": published, but its pubDate is still ahead: it enters the feed then;
 *  - "unpublished": taken out of the feed by its creator (media kept);
 *  - "none": not published (yet).
 */
export type FeedPresence = "listed" | "scheduled" | "unpublished" | "none";

export type EpisodeView = EpisodeStatus & {
  description?: string;
  details: EpisodeDetails;
  feed: FeedPresence;
  pubDate?: string;
  chapters?: { url: string; count: number };
  /** Chapters supplied after publication being written into the audio files (pending), written (done) or not (failed). */
  chaptersRetag?: Episode["chaptersRetag"];
};

export function feedPresence(e: Episode, now: Date): FeedPresence {
  if (e.state !== "published") return "none";
  if (e.details?.unpublishedAt) return "unpublished";
  const date = feedDate(e);
  return date && Date.parse(date) > now.getTime() ? "scheduled" : "listed";
}

export function episodeView(e: Episode, now = new Date(), links?: HoneycombLinks): EpisodeView {
  const pubDate = feedDate(e);
  return {
    ...episodeStatus(e, undefined, links),
    ...(e.description !== undefined ? { description: e.description } : {}),
    details: e.details ?? {},
    feed: feedPresence(e, now),
    ...(pubDate ? { pubDate } : {}),
    ...(e.chapters ? { chapters: e.chapters } : {}),
    ...(e.chaptersRetag ? { chaptersRetag: e.chaptersRetag } : {}),
  };
}
