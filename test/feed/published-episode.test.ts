import { describe, expect, it } from "vitest";
import type { Episode } from "../../shared/episode.ts";
import { parsePublishedEpisode, publishedEpisodeFrom } from "../../shared/feed/published-episode.ts";
import { episode, renditions } from "./fixtures/feed-fixtures.ts";

const record: Episode = {
  episodeId: "ep-1",
  podcastId: "show-1",
  title: "First",
  description: "Hello",
  filename: "first.wav",
  sourceKey: "uploads/show-1/ep-1/source",
  state: "published",
  traceId: "0af7651916cd43dd8448eb211c80319c",
  attempts: 1,
  createdAt: "2025-11-04T09:00:00.000Z",
  updatedAt: "2025-11-04T10:00:00.000Z",
  publishedAt: "2025-11-04T10:00:00.000Z",
  durationSeconds: 61.6,
  renditions: renditions("ep-1"),
  chapters: { url: "https://cdn.example.com/media/show-1/ep-1/chapters.json", count: 3 },
};

describe("publishedEpisodeFrom", () => {
  it("takes the feed's view of a published episode, guid = episode id, nothing private", () => {
    const published = publishedEpisodeFrom(record, { episodeNumber: 3 });
    expect(published).toEqual({
      episodeId: "ep-1",
      podcastId: "show-1",
      guid: "ep-1",
      title: "First",
      description: "Hello",
      publishedAt: "2025-11-04T10:00:00.000Z",
      durationSeconds: 61.6,
      renditions: record.renditions,
      chapters: record.chapters,
      episodeNumber: 3,
    });
    expect(JSON.stringify(published)).not.toMatch(/sourceKey|traceId|filename/);
  });

  it("refuses an episode that is not published yet", () => {
    expect(() => publishedEpisodeFrom({ ...record, publishedAt: undefined })).toThrow(/episode ep-1 has no publishedAt/);
    expect(() => publishedEpisodeFrom({ ...record, renditions: [] })).toThrow(/episode ep-1 has no renditions/);
  });
});

describe("parsePublishedEpisode", () => {
  it("accepts a valid entry read back from storage", () => {
    const entry = episode("ep-2", { explicit: true, season: 1 });
    expect(parsePublishedEpisode(JSON.parse(JSON.stringify(entry)))).toEqual(entry);
  });

  it("names the first bad field", () => {
    const bad = (patch: Record<string, unknown>) => ({ ...episode("ep-3"), ...patch });
    expect(() => parsePublishedEpisode(null)).toThrow(/invalid published episode: not an object/);
    expect(() => parsePublishedEpisode(bad({ title: "" }))).toThrow(/invalid published episode ep-3: title/);
    expect(() => parsePublishedEpisode(bad({ publishedAt: "soon" }))).toThrow(/ep-3: publishedAt/);
    expect(() => parsePublishedEpisode(bad({ durationSeconds: -1 }))).toThrow(/ep-3: durationSeconds/);
    expect(() => parsePublishedEpisode(bad({ renditions: [] }))).toThrow(/ep-3: renditions/);
    const wrongId = [{ ...renditions("ep-3")[0]!, id: "flac_hi" }];
    expect(() => parsePublishedEpisode(bad({ renditions: wrongId }))).toThrow(/ep-3: renditions\[0\]\.id/);
    const noBytes = [{ ...renditions("ep-3")[0]!, bytes: "1" }];
    expect(() => parsePublishedEpisode(bad({ renditions: noBytes }))).toThrow(/ep-3: renditions\[0\]\.bytes/);
    expect(() => parsePublishedEpisode(bad({ season: 0 }))).toThrow(/ep-3: season/);
    expect(() => parsePublishedEpisode(bad({ chapters: { url: 1 } }))).toThrow(/ep-3: chapters/);
  });
});
