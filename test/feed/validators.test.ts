/**
 * The feed writer against the four parsers, the Podcasting 2.0 schema, PSP-1
 * and Apple (test/feed/validators.ts), with every optional element a show and
 * an episode can have; and the checks themselves refusing what they must.
 */
import { describe, expect, it } from "vitest";
import { renderFeed } from "../../shared/feed/rss.ts";
import { BASE_URL, episode, podcast } from "./fixtures/feed-fixtures.ts";
import { checkFeed, validatePodcastElements } from "./validators.ts";

const NOW = new Date("2025-11-10T12:00:00.000Z");
const fullShow = podcast({
  link: "https://show.example/",
  categories: ["Technology", "Society & Culture > Documentary"],
  ownerEmail: "host@show.example",
  type: "serial",
  locked: true,
  copyright: "© 2025 Ann Author",
  complete: true,
  funding: [{ url: "https://show.example/support", text: "Support the show" }],
  newFeedUrl: "https://new.example/feed.xml",
});

describe("a feed with every field", () => {
  const xml = renderFeed({
    podcast: fullShow,
    episodes: [
      episode("ep-1", {
        description: '<p>Show notes with <a href="https://show.example/1">a link</a></p>',
        season: 2,
        episodeNumber: 7,
        episodeType: "bonus",
        explicit: true,
        link: "https://show.example/1",
        imageUrl: "https://show.example/1.jpg",
        chapters: { url: "https://cdn.example.com/media/show-1/ep-1/chapters.json", count: 2 },
        transcripts: [
          { url: "https://cdn.example.com/media/show-1/ep-1/transcript.vtt", type: "text/vtt", language: "en-GB" },
          { url: "https://cdn.example.com/media/show-1/ep-1/transcript.srt", type: "application/srt", language: "en-GB" },
        ],
      }),
      episode("ep-2", { publishedAt: "2025-11-03T10:00:00.000Z", episodeType: "trailer" }),
      // Scheduled: dated after NOW, so not in the feed yet.
      episode("ep-3", { publishedAt: "2025-12-01T10:00:00.000Z" }),
    ],
    publicBaseUrl: BASE_URL,
    now: NOW,
  });

  it("is accepted by the four parsers, the schema, PSP-1 and Apple, and says the same to each", async () => {
    const f = await checkFeed(xml, { episodes: 2 });
    const p = f.partytime;
    expect(p.link).toBe("https://show.example/");
    expect(p.itunesCategory).toEqual(["Technology", "Society & Culture > Documentary"]);
    expect(p.itunesType).toBe("serial");
    expect(p.locked).toBe(true);
    expect(p.podcastOwner).toBe("host@show.example");
    expect(p.copyright).toBe("© 2025 Ann Author");
    expect(p.itunesComplete).toBe(true);
    expect(p.itunesNewFeedUrl).toBe("https://new.example/feed.xml");
    expect(p.podcastFunding?.[0]).toMatchObject({ url: "https://show.example/support", message: "Support the show" });
    const [first, second] = p.items;
    expect(first!.itunesSeason).toBe(2);
    expect(first!.itunesEpisode).toBe(7);
    expect(first!.itunesEpisodeType).toBe("bonus");
    expect(first!.explicit).toBe(true);
    expect(first!.link).toBe("https://show.example/1");
    expect(first!.itunesImage).toBe("https://show.example/1.jpg");
    expect(first!.content).toContain('<a href="https://show.example/1">a link</a>');
    expect(first!.podcastTranscripts).toEqual([
      expect.objectContaining({ url: "https://cdn.example.com/media/show-1/ep-1/transcript.vtt", type: "text/vtt", language: "en-GB" }),
      expect.objectContaining({
        url: "https://cdn.example.com/media/show-1/ep-1/transcript.srt",
        type: "application/srt",
        language: "en-GB",
      }),
    ]);
    expect(first!.podcastChapters?.url).toBe("https://cdn.example.com/media/show-1/ep-1/chapters.json");
    expect(second!.itunesEpisodeType).toBe("trailer");
    expect(f.rssParser.items.map((i) => i.guid)).toEqual(["ep-1", "ep-2"]);
    expect(f.podverse.meta.title).toBe("The Test Show");
    expect(f.podcastFeedParser.episodes.map((e) => e.title)).toEqual(["Episode ep-1", "Episode ep-2"]);
  });

  it("leaves a scheduled episode out until it is due, then lists it", async () => {
    expect(xml).not.toContain("ep-3");
    const later = renderFeed({
      podcast: fullShow,
      episodes: [episode("ep-3", { publishedAt: "2025-12-01T10:00:00.000Z" })],
      publicBaseUrl: BASE_URL,
      now: new Date("2025-12-01T10:00:00.000Z"),
    });
    expect((await checkFeed(later, { episodes: 1 })).partytime.items[0]!.guid).toBe("ep-3");
  });
});

describe("the checks refuse", () => {
  it("a feed without the show's website or artwork (PSP-1, Apple)", async () => {
    const xml = renderFeed({ podcast: podcast({ artworkUrl: undefined }), episodes: [episode("ep-1")], publicBaseUrl: BASE_URL, now: NOW });
    await expect(checkFeed(xml)).rejects.toThrow(/channel link: the show's website[\s\S]*itunes:image/);
  });

  it("podcast elements the schema does not allow", () => {
    const ok = `<rss xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><podcast:locked owner="a@b.example">no</podcast:locked></channel></rss>`;
    expect(validatePodcastElements(ok)).toBeUndefined();
    expect(validatePodcastElements(ok.replace(">no<", ">maybe<"))).toMatch(/locked/);
    expect(
      validatePodcastElements(ok.replace('podcast:locked owner="a@b.example">no</podcast:locked', 'podcast:transcript type="text/vtt"/')),
    ).toMatch(/url/);
    expect(
      validatePodcastElements(ok.replace("<podcast:locked", "<podcast:unheardOf").replace("</podcast:locked", "</podcast:unheardOf")),
    ).toMatch(/unheardOf/);
  });
});
