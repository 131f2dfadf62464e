import type { PublishedRendition } from "../episode.ts";
import { podcastCategories, type PublicPodcast } from "../podcast.ts";
import { splitCategory } from "../apple-categories.ts";
import { DEFAULT_RENDITION, RENDITIONS, renditionSpec } from "../renditions.ts";
import { publicPaths, publicUrl } from "../storage-keys.ts";
import { podcastGuid } from "./podcast-guid.ts";
import type { PublishedEpisode } from "./published-episode.ts";
import { xmlDocument, type XmlElement } from "./xml.ts";

export const FEED_CONTENT_TYPE = "application/rss+xml; charset=utf-8";
export const CHAPTERS_CONTENT_TYPE = "application/json+chapters";
const GENERATOR = "podcast-pipeline";

const NAMESPACES = {
  "xmlns:itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
  "xmlns:podcast": "https://podcastindex.org/namespace/1.0",
  "xmlns:atom": "http://www.w3.org/2005/Atom",
  "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
};

export interface FeedInput {
  podcast: PublicPodcast;
  episodes: readonly PublishedEpisode[];
  publicBaseUrl: string;
  /**
   * lastBuildDate, and the moment that decides which episodes are due:
   * entries dated later (scheduled) are left out until then.
   */
  now?: Date;
  /**
   * podcast:guid once assigned. The spec wants it to follow the show across
   * feed URL changes; by default it is derived from the current feed URL.
   */
  guid?: string;
}

/**
 * The podcast's RSS 2.0 feed (PSP-1: RSS + itunes + podcast namespaces).
 * Pure and synchronous; the same input always yields the same bytes.
 */
export function renderFeed(input: FeedInput): string {
  const { podcast, publicBaseUrl } = input;
  const feedUrl = publicUrl(publicBaseUrl, publicPaths.feed(podcast.podcastId));
  // No website, no <link>: the feed URL is not one (PSP-1, Apple), and the API says so when a show lacks it.
  const link = podcast.link;
  const now = input.now ?? new Date();
  const episodes = newestFirst(input.episodes.filter((e) => !(Date.parse(e.publishedAt) > now.getTime())));
  const newest = episodes[0];

  const channel: XmlElement = {
    name: "channel",
    children: [
      { name: "atom:link", attrs: { href: feedUrl, rel: "self", type: "application/rss+xml" } },
      { name: "title", text: podcast.title },
      { name: "description", text: podcast.description },
      link !== undefined && { name: "link", text: link },
      { name: "language", text: podcast.language },
      ...podcastCategories(podcast).map(category),
      { name: "itunes:explicit", text: String(podcast.explicit) },
      podcast.artworkUrl !== undefined && { name: "itunes:image", attrs: { href: podcast.artworkUrl } },
      podcast.artworkUrl !== undefined &&
        link !== undefined && {
          name: "image",
          children: [
            { name: "url", text: podcast.artworkUrl },
            { name: "title", text: podcast.title },
            { name: "link", text: link },
          ],
        },
      { name: "itunes:author", text: podcast.author },
      podcast.ownerEmail !== undefined && {
        name: "itunes:owner",
        children: [
          { name: "itunes:name", text: podcast.author },
          { name: "itunes:email", text: podcast.ownerEmail },
        ],
      },
      { name: "itunes:type", text: podcast.type ?? "episodic" },
      podcast.copyright !== undefined && { name: "copyright", text: podcast.copyright },
      podcast.complete === true && { name: "itunes:complete", text: "Yes" },
      podcast.newFeedUrl !== undefined && { name: "itunes:new-feed-url", text: podcast.newFeedUrl },
      { name: "podcast:locked", attrs: { owner: podcast.ownerEmail }, text: podcast.locked ? "yes" : "no" },
      ...(podcast.funding ?? []).map((f) => ({ name: "podcast:funding", attrs: { url: f.url }, text: f.text })),
      { name: "podcast:guid", text: input.guid ?? input.podcast.guid ?? podcastGuid(feedUrl) },
      { name: "generator", text: GENERATOR },
      newest && { name: "pubDate", text: rfc2822(newest.publishedAt, newest.episodeId) },
      { name: "lastBuildDate", text: now.toUTCString() },
      ...episodes.map((e) => item(e, podcast)),
    ],
  };
  return xmlDocument({ name: "rss", attrs: { version: "2.0", ...NAMESPACES }, children: [channel] });
}

/** Apple categories nest one level: "Society & Culture > Documentary". */
function category(value: string): XmlElement {
  const { parent, child } = splitCategory(value);
  return {
    name: "itunes:category",
    attrs: { text: parent },
    children: [child ? { name: "itunes:category", attrs: { text: child } } : undefined],
  };
}

function item(episode: PublishedEpisode, podcast: PublicPodcast): XmlElement {
  const renditions = inRenditionOrder(episode);
  const enclosure = renditions.find((r) => r.id === DEFAULT_RENDITION) ?? renditions[0];
  if (!enclosure) throw new Error(`episode ${episode.episodeId} has no renditions to publish`);
  if (!Number.isFinite(episode.durationSeconds) || episode.durationSeconds < 0) {
    throw new Error(`episode ${episode.episodeId} has an invalid duration`);
  }
  const explicit = episode.explicit ?? podcast.explicit;
  return {
    name: "item",
    children: [
      { name: "title", text: episode.title },
      episode.description !== undefined && { name: "description", text: episode.description },
      // Show notes with markup: apps that render HTML read content:encoded (escaped here like all text).
      episode.description !== undefined && /<[a-z!/]/i.test(episode.description) && { name: "content:encoded", text: episode.description },
      { name: "guid", attrs: { isPermaLink: "false" }, text: episode.guid },
      episode.link !== undefined && { name: "link", text: episode.link },
      { name: "pubDate", text: rfc2822(episode.publishedAt, episode.episodeId) },
      { name: "enclosure", attrs: { url: enclosure.url, length: enclosure.bytes, type: enclosure.mimeType } },
      { name: "itunes:duration", text: String(Math.round(episode.durationSeconds)) },
      { name: "itunes:episodeType", text: episode.episodeType ?? "full" },
      { name: "itunes:explicit", text: String(explicit) },
      episode.imageUrl !== undefined && { name: "itunes:image", attrs: { href: episode.imageUrl } },
      episode.season !== undefined && { name: "itunes:season", text: String(episode.season) },
      episode.episodeNumber !== undefined && { name: "itunes:episode", text: String(episode.episodeNumber) },
      episode.season !== undefined && { name: "podcast:season", text: String(episode.season) },
      episode.episodeNumber !== undefined && { name: "podcast:episode", text: String(episode.episodeNumber) },
      episode.chapters && { name: "podcast:chapters", attrs: { url: episode.chapters.url, type: CHAPTERS_CONTENT_TYPE } },
      ...(episode.transcripts ?? []).map((t) => ({
        name: "podcast:transcript",
        attrs: { url: t.url, type: t.type, language: t.language },
      })),
      ...renditions.map((r) => alternateEnclosure(r, r === enclosure)),
    ],
  };
}

function alternateEnclosure(rendition: PublishedRendition, isDefault: boolean): XmlElement {
  const spec = renditionSpec(rendition.id);
  return {
    name: "podcast:alternateEnclosure",
    attrs: {
      type: rendition.mimeType,
      length: rendition.bytes,
      bitrate: Math.round(rendition.bitrateKbps * 1000),
      codecs: spec.codecs,
      title: `${spec.codec === "opus" ? "Opus" : spec.codec.toUpperCase()} ${spec.bitrateKbps} kbps`,
      default: isDefault ? "true" : undefined,
    },
    children: [{ name: "podcast:source", attrs: { uri: rendition.url } }],
  };
}

/** Renditions in the canonical order of RENDITIONS, so output never depends on encode order. */
function inRenditionOrder(episode: PublishedEpisode): PublishedRendition[] {
  const rank = (r: PublishedRendition) => RENDITIONS.findIndex((s) => s.id === r.id);
  return [...episode.renditions].sort((a, b) => rank(a) - rank(b));
}

/** Newest first; ties broken by id so the order is stable whatever order storage listed them in. */
function newestFirst(episodes: readonly PublishedEpisode[]): PublishedEpisode[] {
  return [...episodes].sort(
    (a, b) => Date.parse(b.publishedAt) - Date.parse(a.publishedAt) || (a.episodeId < b.episodeId ? -1 : a.episodeId > b.episodeId ? 1 : 0),
  );
}

/** RFC 2822 date; toUTCString's form ("Tue, 04 Nov 2025 10:00:00 GMT") is specified by ECMAScript. */
function rfc2822(iso: string, episodeId: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`episode ${episodeId} has an invalid publishedAt`);
  return date.toUTCString();
}
