/**
 * A feed checked the way directories and apps check it: four independent
 * parsers (podcast-partytime from the Podcast Index, rss-parser,
 * podcast-feed-parser, @podverse/podcast-feed-parser), the Podcasting 2.0
 * elements against an XML Schema with xmllint (Debian libxml2-utils), and
 * PSP-1's required and recommended elements plus Apple's requirements.
 * Throws with every problem found; returns what each parser read.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseFeed } from "podcast-partytime";
import Parser from "rss-parser";
import { categoryProblem } from "../../shared/apple-categories.ts";
import { canonicalLanguage } from "../../shared/language.ts";

const require = createRequire(import.meta.url);
const podcastFeedParser = require("podcast-feed-parser") as {
  getPodcastFromFeed(xml: string): { meta: Record<string, unknown>; episodes: Record<string, unknown>[] };
};
const podverseParser = require("@podverse/podcast-feed-parser") as typeof podcastFeedParser;

export const PODCAST_NS = "https://podcastindex.org/namespace/1.0";
const SCHEMA = fileURLToPath(new URL("./schema/podcast-namespace.xsd", import.meta.url));

export type Partytime = NonNullable<ReturnType<typeof parseFeed>>;
export interface CheckedFeed {
  partytime: Partytime;
  rssParser: Awaited<ReturnType<Parser["parseString"]>>;
  podcastFeedParser: ReturnType<typeof podcastFeedParser.getPodcastFromFeed>;
  podverse: ReturnType<typeof podverseParser.getPodcastFromFeed>;
}

export async function checkFeed(xml: string, opts: { episodes?: number } = {}): Promise<CheckedFeed> {
  const problems: string[] = [];
  const partytime = parseFeed(xml);
  if (!partytime) throw new Error(`podcast-partytime could not parse the feed:\n${xml}`);
  const rssParser = await new Parser().parseString(xml);
  // Both podcast-feed-parsers assume at least one <item> (they call channel.item.forEach): a show's feed
  // before its first episode is valid RSS, so there they read the channel of the same feed with one item added.
  const readable =
    partytime.items.length > 0 ? xml : xml.replace("</channel>", "<item><title>probe</title><guid>probe</guid></item></channel>");
  const pfp = podcastFeedParser.getPodcastFromFeed(readable);
  const podverse = podverseParser.getPodcastFromFeed(readable);
  if (partytime.items.length === 0) {
    pfp.episodes = [];
    podverse.episodes = [];
  }

  // Every parser sees the same episodes.
  const counts = {
    partytime: partytime.items.length,
    rssParser: rssParser.items.length,
    podcastFeedParser: pfp.episodes.length,
    podverse: podverse.episodes.length,
  };
  if (new Set(Object.values(counts)).size !== 1) problems.push(`parsers disagree on the episode count: ${JSON.stringify(counts)}`);
  if (opts.episodes !== undefined && partytime.items.length !== opts.episodes)
    problems.push(`expected ${opts.episodes} episodes, found ${partytime.items.length}`);

  problems.push(...psp1AndApple(partytime, xml));
  const xsd = validatePodcastElements(xml);
  if (xsd) problems.push(`Podcasting 2.0 schema: ${xsd}`);
  if (problems.length > 0) throw new Error(`feed refused:\n- ${problems.join("\n- ")}\n\n${xml}`);
  return { partytime, rssParser, podcastFeedParser: pfp, podverse };
}

/** PSP-1 (required + recommended) and Apple Podcasts' requirements, on what partytime read. */
function psp1AndApple(f: Partytime, xml: string): string[] {
  const p: string[] = [];
  const need = (ok: unknown, what: string) => {
    if (!ok) p.push(what);
  };
  need(f.pubsub?.self, "channel atom:link rel=self (PSP-1 required)");
  need(f.title, "channel title");
  need(f.description, "channel description");
  need(new TextEncoder().encode(f.description ?? "").length <= 4000, "channel description at most 4000 bytes");
  need(f.link && f.link !== f.pubsub?.self, "channel link: the show's website, not the feed (PSP-1 required)");
  need(f.language && canonicalLanguage(f.language) === f.language, `channel language as a BCP 47 tag (${f.language})`);
  need(f.itunesCategory && f.itunesCategory.length > 0, "itunes:category (PSP-1 required)");
  for (const c of f.itunesCategory ?? []) need(!categoryProblem(c), `itunes:category "${c}" from Apple's list`);
  need(/<itunes:explicit>(true|false)<\/itunes:explicit>/.test(xml), "channel itunes:explicit true/false (PSP-1 required)");
  need(f.itunesImage, "itunes:image (PSP-1 and Apple required)");
  need(f.locked !== undefined, "podcast:locked (PSP-1 recommended)");
  need(f.guid, "podcast:guid (PSP-1 recommended)");
  need(f.author, "itunes:author (Apple)");
  need(f.itunesType === "episodic" || f.itunesType === "serial", "itunes:type episodic or serial (Apple)");
  f.items.forEach((item, i) => {
    const at = `item ${i + 1} (${item.title})`;
    need(item.title, `${at}: title`);
    need(
      item.enclosure?.url && item.enclosure.length > 0 && /^audio\//.test(item.enclosure.type),
      `${at}: enclosure url, length in bytes, audio type`,
    );
    need(/^audio\/(mpeg|mp4|x-m4a)$/.test(item.enclosure?.type ?? ""), `${at}: enclosure MP3 or AAC (Apple)`);
    need(item.guid, `${at}: guid`);
    need(item.pubDate && !Number.isNaN(item.pubDate.getTime()), `${at}: pubDate (PSP-1 recommended)`);
    need(item.description, `${at}: description (PSP-1 recommended)`);
    need(item.duration > 0, `${at}: itunes:duration in seconds (PSP-1 recommended)`);
  });
  return p;
}

/**
 * The feed's podcast:* elements (those not inside another podcast element),
 * lifted into one wrapper document and validated strictly against the
 * schema: an element the schema does not know fails too.
 */
export function validatePodcastElements(xml: string): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), "feed-xsd-"));
  try {
    const feed = path.join(dir, "feed.xml");
    writeFileSync(feed, xml);
    let elements = "";
    try {
      elements = execFileSync(
        "xmllint",
        ["--xpath", `//*[namespace-uri()='${PODCAST_NS}'][not(namespace-uri(..)='${PODCAST_NS}')]`, feed],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      );
    } catch (err) {
      return `xmllint found no podcast elements: ${(err as { stderr?: string }).stderr ?? String(err)}`;
    }
    const wrapper = path.join(dir, "podcast-elements.xml");
    writeFileSync(
      wrapper,
      `<?xml version="1.0" encoding="UTF-8"?>\n<podcast:test-wrapper xmlns:podcast="${PODCAST_NS}">\n${elements}\n</podcast:test-wrapper>\n`,
    );
    try {
      execFileSync("xmllint", ["--noout", "--schema", SCHEMA, wrapper], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return undefined;
    } catch (err) {
      return (err as { stderr?: string }).stderr ?? String(err);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
