/**
 * The feed as podcast apps read it: rendered by shared/feed/rss.ts and parsed
 * back with podcast-partytime (the Podcast Index parser), never by regexes
 * alone.
 */
import { describe, expect, it } from "vitest";
import { parseFeed } from "podcast-partytime";
import { renderFeed } from "../../shared/feed/rss.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { BASE_URL, FEED_URL, episode, podcast, renditions } from "./fixtures/feed-fixtures.ts";

const NOW = new Date("2025-11-10T12:00:00.000Z");
// UUIDv5("cdn.example.com/feeds/show-1.xml", ead4c236-bf58-58c6-a2c6-a6b28d128cb6), computed with
// node:crypto's SHA-1 outside this code base; fixed here so a change of the seed (scheme, slash, path) is caught.
const expectedGuid = "769aae39-978a-5965-951c-7585a4418bbd";

function parse(xml: string) {
  const feed = parseFeed(xml);
  if (!feed) throw new Error(`partytime could not parse the feed:\n${xml}`);
  return feed;
}

describe("renderFeed channel", () => {
  const xml = renderFeed({
    podcast: podcast({ category: "Society & Culture > Documentary", explicit: true }),
    episodes: [episode("ep-1")],
    publicBaseUrl: BASE_URL,
    now: NOW,
  });
  const feed = parse(xml);

  it("carries the PSP-1 channel tags", () => {
    expect(feed.title).toBe("The Test Show");
    expect(feed.description).toBe("A show about tests.");
    expect(feed.language).toBe("en-GB");
    expect(feed.author).toBe("Ann Author");
    expect(feed.explicit).toBe(true);
    expect(feed.itunesImage).toBe("https://cdn.example.com/art/show-1.jpg");
    // RSS <image> needs the show's website as its link: without one only itunes:image is written.
    expect(xml).not.toContain("<image>");
    expect(feed.itunesCategory).toEqual(["Society & Culture > Documentary"]);
    expect(feed.generator).toBe("podcast-pipeline");
    expect(feed.lastBuildDate?.toISOString()).toBe(NOW.toISOString());
    expect(feed.pubDate?.toISOString()).toBe("2025-11-04T10:00:00.000Z");
  });

  it("points atom:link rel=self at the public feed URL, and never uses it as the show's website", () => {
    expect(feed.pubsub?.self).toBe(FEED_URL);
    expect(xml).not.toMatch(/<link>/);
    expect(xml).toContain(`<atom:link href="${FEED_URL}" rel="self" type="application/rss+xml"/>`);
  });

  it("uses the show's website as link when it has one", () => {
    const withLink = parse(
      renderFeed({ podcast: podcast({ link: "https://show.example/" }), episodes: [], publicBaseUrl: BASE_URL, now: NOW }),
    );
    expect(withLink.link).toBe("https://show.example/");
    expect(withLink.image?.link).toBe("https://show.example/");
    expect(withLink.pubsub?.self).toBe(FEED_URL);
  });

  it("writes podcast:guid as the UUIDv5 of the feed URL, and podcast:locked no", () => {
    expect(feed.guid).toBe(expectedGuid);
    expect(xml).toMatch(/<podcast:locked>no<\/podcast:locked>/);
    const pinned = parse(
      renderFeed({ podcast: podcast(), episodes: [], publicBaseUrl: "https://other.example", now: NOW, guid: expectedGuid }),
    );
    expect(pinned.guid).toBe(expectedGuid);
    // The guid stored on the podcast when it was created wins over the current domain's.
    const moved = parse(
      renderFeed({ podcast: { ...podcast(), guid: expectedGuid }, episodes: [], publicBaseUrl: "https://other.example", now: NOW }),
    );
    expect(moved.guid).toBe(expectedGuid);
  });

  it("publishes the owner's e-mail (itunes:owner, podcast:locked owner) only when the show has one", () => {
    expect(feed.owner).toBeUndefined();
    expect(xml).not.toContain("itunes:owner");
    const owned = renderFeed({
      podcast: podcast({ ownerEmail: "host+feeds@show.example" }),
      episodes: [],
      publicBaseUrl: BASE_URL,
      now: NOW,
    });
    const parsed = parse(owned);
    expect(parsed.owner).toEqual({ name: "Ann Author", email: "host+feeds@show.example" });
    expect(parsed.locked).toBe(false);
    expect(owned).toContain('<podcast:locked owner="host+feeds@show.example">no</podcast:locked>');
  });

  it("declares the namespaces PSP-1 needs", () => {
    expect(xml).toContain('xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"');
    expect(xml).toContain('xmlns:podcast="https://podcastindex.org/namespace/1.0"');
    expect(xml).toContain('xmlns:atom="http://www.w3.org/2005/Atom"');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"')).toBe(true);
  });

  it("writes a top-level category and itunes:explicit false", () => {
    const plain = renderFeed({ podcast: podcast(), episodes: [], publicBaseUrl: BASE_URL, now: NOW });
    expect(parse(plain).itunesCategory).toEqual(["Technology"]);
    expect(parse(plain).explicit).toBe(false);
    expect(plain).toMatch(/<channel>[\s\S]*<itunes:explicit>false<\/itunes:explicit>[\s\S]*<\/channel>/);
  });
});

describe("renderFeed items", () => {
  const older = episode("ep-old", { publishedAt: "2025-10-01T08:00:00.000Z", explicit: true, episodeNumber: 1, season: 2 });
  const newest = episode("ep-new", {
    publishedAt: "2025-11-05T09:30:00.000Z",
    durationSeconds: 3599.5,
    chapters: { url: "https://cdn.example.com/media/show-1/ep-new/chapters.json", count: 4 },
  });
  const middle = episode("ep-mid", { publishedAt: "2025-10-20T00:00:00.000Z", description: undefined });
  const xml = renderFeed({ podcast: podcast(), episodes: [older, newest, middle], publicBaseUrl: BASE_URL, now: NOW });
  const items = parse(xml).items;

  it("lists episodes newest first with stable guids and pubDates", () => {
    expect(items.map((i) => i.guid)).toEqual(["ep-new", "ep-mid", "ep-old"]);
    expect(items.map((i) => i.pubDate?.toISOString())).toEqual([
      "2025-11-05T09:30:00.000Z",
      "2025-10-20T00:00:00.000Z",
      "2025-10-01T08:00:00.000Z",
    ]);
    expect(xml).toContain('<guid isPermaLink="false">ep-new</guid>');
    expect(xml).toContain("<pubDate>Wed, 05 Nov 2025 09:30:00 GMT</pubDate>");
  });

  it("uses the default rendition (MP3 128k) as the enclosure, with its byte length", () => {
    const mp3 = newest.renditions.find((r) => r.id === "mp3_128k")!;
    expect(items[0]!.enclosure).toEqual({ url: mp3.url, length: mp3.bytes, type: "audio/mpeg" });
    const oldMp3 = older.renditions.find((r) => r.id === "mp3_128k")!;
    expect(items[2]!.enclosure).toEqual({ url: oldMp3.url, length: oldMp3.bytes, type: "audio/mpeg" });
  });

  it("writes title, description, whole-second duration, episode type and explicit", () => {
    expect(items[0]!.title).toBe("Episode ep-new");
    expect(items[0]!.description).toBe("About ep-new.");
    expect(items[1]!.description).toBeUndefined();
    expect(items[0]!.duration).toBe(3600);
    expect(items[2]!.duration).toBe(62);
    expect(xml).toContain("<itunes:duration>3600</itunes:duration>");
    expect(items.map((i) => i.itunesEpisodeType)).toEqual(["full", "full", "full"]);
    expect(items.map((i) => i.explicit)).toEqual([false, false, true]);
  });

  it("numbers episodes and seasons when given", () => {
    expect(items[2]!.itunesEpisode).toBe(1);
    expect(items[2]!.itunesSeason).toBe(2);
    expect(items[2]!.podcastEpisode?.number).toBe(1);
    expect(items[2]!.podcastSeason?.number).toBe(2);
    expect(items[0]!.itunesEpisode).toBeUndefined();
  });

  it("offers every rendition as podcast:alternateEnclosure, the default marked", () => {
    const alternates = items[0]!.alternativeEnclosures!;
    expect(alternates.map((a) => a.type)).toEqual(RENDITIONS.map((r) => r.mimeType));
    expect(alternates.map((a) => a.codecs)).toEqual(["mp3", "mp3", "mp4a.40.2", "mp4a.40.2", "opus"]);
    expect(alternates.map((a) => a.bitrate)).toEqual([128000, 64000, 128000, 64000, 48000]);
    expect(alternates.map((a) => a.title)).toEqual(["MP3 128 kbps", "MP3 64 kbps", "AAC 128 kbps", "AAC 64 kbps", "Opus 48 kbps"]);
    expect(alternates.map((a) => a.default)).toEqual([true, false, false, false, false]);
    for (const [i, r] of RENDITIONS.entries()) {
      const published = newest.renditions.find((p) => p.id === r.id)!;
      expect(alternates[i]!.length).toBe(published.bytes);
      expect(alternates[i]!.source).toEqual([{ uri: published.url, contentType: r.mimeType }]);
    }
  });

  it("links JSON chapters only where the episode has them", () => {
    expect(items[0]!.podcastChapters).toEqual({
      url: "https://cdn.example.com/media/show-1/ep-new/chapters.json",
      type: "application/json+chapters",
    });
    expect(items[1]!.podcastChapters).toBeUndefined();
    expect(xml.match(/<podcast:chapters /g)).toHaveLength(1);
  });

  it("falls back to the first published rendition when MP3 128k is missing", () => {
    const aacOnly = episode("ep-aac", { renditions: renditions("ep-aac", ["opus_48k", "aac_128k"]) });
    const item = parse(renderFeed({ podcast: podcast(), episodes: [aacOnly], publicBaseUrl: BASE_URL, now: NOW })).items[0]!;
    expect(item.enclosure.type).toBe("audio/mp4");
    expect(item.enclosure.url).toMatch(/audio-128k\.m4a$/);
    expect(item.alternativeEnclosures!.map((a) => [a.codecs, a.default])).toEqual([
      ["mp4a.40.2", true],
      ["opus", false],
    ]);
  });
});

describe("renderFeed escaping", () => {
  const hostile = `<script>alert("x")</script> & 'quoted' "double"`;
  const controls = "\u0000\u0001\u0008\u000B\u000C\u001F\u007F\u0085\uFFFE\uFFFF\uD800";
  const xml = renderFeed({
    podcast: podcast({
      title: `Show ${hostile}${controls}`,
      author: `Author ${hostile}`,
      description: `Desc ${hostile}${controls} 🎙️ ünïcödé`,
      artworkUrl: `https://cdn.example.com/art.jpg?a=1&b="2"<`,
    }),
    episodes: [
      episode("ep-1", {
        guid: `guid-${hostile}`,
        title: `Title ${hostile}${controls} end`,
        description: `Body ${hostile}${controls}\r\nline 2 ]]> <![CDATA[ x`,
      }),
    ],
    publicBaseUrl: BASE_URL,
    now: NOW,
  });
  const feed = parse(xml);

  it("round-trips hostile text as text, minus characters XML cannot carry", () => {
    expect(feed.title).toBe(`Show ${hostile}`);
    expect(feed.author).toBe(`Author ${hostile}`);
    expect(feed.description).toBe(`Desc ${hostile} 🎙️ ünïcödé`);
    expect(feed.itunesImage).toBe(`https://cdn.example.com/art.jpg?a=1&b="2"<`);
    const item = feed.items[0]!;
    expect(item.title).toBe(`Title ${hostile} end`);
    expect(item.guid).toBe(`guid-${hostile}`);
    expect(item.description).toBe(`Body ${hostile} line 2 ]]> <![CDATA[ x`);
  });

  it("never emits markup from content nor characters outside XML 1.0", () => {
    expect(xml).not.toContain("<script>");
    expect(xml).not.toContain("<![CDATA[");
    expect(xml).toContain(`<title>Title &lt;script&gt;alert("x")&lt;/script&gt; &amp; 'quoted' "double" end</title>`);
    expect(xml).toContain(`<itunes:image href="https://cdn.example.com/art.jpg?a=1&amp;b=&quot;2&quot;&lt;"/>`);
    expect(xml).not.toMatch(/[^\t\n\x20-\x7E\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u);
  });
});

describe("renderFeed edge cases", () => {
  it("renders a valid feed without episodes", () => {
    const xml = renderFeed({ podcast: podcast({ artworkUrl: undefined }), episodes: [], publicBaseUrl: BASE_URL, now: NOW });
    const feed = parse(xml);
    expect(feed.items).toEqual([]);
    expect(feed.title).toBe("The Test Show");
    expect(feed.guid).toBe(expectedGuid);
    expect(feed.itunesImage).toBeUndefined();
    expect(xml).not.toContain("<pubDate>");
  });

  it("is deterministic: same bytes whatever order episodes and renditions come in", () => {
    const a = episode("ep-a", { publishedAt: "2025-11-01T00:00:00.000Z" });
    const b = episode("ep-b", { publishedAt: "2025-11-02T00:00:00.000Z" });
    // Same instant: order falls back to the id.
    const c = episode("ep-c", { publishedAt: "2025-11-02T00:00:00.000Z", renditions: [...renditions("ep-c")].reverse() });
    const first = renderFeed({ podcast: podcast(), episodes: [a, b, c], publicBaseUrl: BASE_URL, now: NOW });
    const second = renderFeed({
      podcast: podcast(),
      episodes: [c, a, { ...b, renditions: [...b.renditions].reverse() }],
      publicBaseUrl: BASE_URL,
      now: NOW,
    });
    expect(second).toBe(first);
    expect(parse(first).items.map((i) => i.guid)).toEqual(["ep-b", "ep-c", "ep-a"]);
    expect(parse(first).items[1]!.alternativeEnclosures!.map((e) => e.codecs)).toEqual(["mp3", "mp3", "mp4a.40.2", "mp4a.40.2", "opus"]);

    const later = renderFeed({ podcast: podcast(), episodes: [a, b, c], publicBaseUrl: BASE_URL, now: new Date("2026-01-01T00:00:00Z") });
    const differing = first.split("\n").filter((line, i) => line !== later.split("\n")[i]);
    expect(differing).toEqual(["    <lastBuildDate>Mon, 10 Nov 2025 12:00:00 GMT</lastBuildDate>"]);
  });

  it("refuses an episode it cannot publish, naming it", () => {
    expect(() =>
      renderFeed({ podcast: podcast(), episodes: [episode("ep-x", { renditions: [] })], publicBaseUrl: BASE_URL, now: NOW }),
    ).toThrow(/episode ep-x has no renditions/);
    expect(() =>
      renderFeed({ podcast: podcast(), episodes: [episode("ep-y", { publishedAt: "yesterday" })], publicBaseUrl: BASE_URL, now: NOW }),
    ).toThrow(/episode ep-y has an invalid publishedAt/);
    expect(() => renderFeed({ podcast: podcast({ podcastId: "../etc" }), episodes: [], publicBaseUrl: BASE_URL, now: NOW })).toThrow(
      /invalid podcast id/,
    );
  });
});
