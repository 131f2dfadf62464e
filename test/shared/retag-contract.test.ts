// The parts of the chapters re-tag both services agree on: the job on the
// wire, the versioned media names, the chapters' revision.
import { describe, expect, it } from "vitest";
import { parseEpisodeJob, parseProcessorJob, isRetagChaptersJob } from "../../shared/job.ts";
import { keys, mediaFile } from "../../shared/storage-keys.ts";
import { chaptersRevision } from "../../shared/supplied-chapters.ts";
import { vorbisChapterComments } from "../../processor/media/chapter-tags.ts";

const trace = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };

describe("retag-chapters job", () => {
  it("is told apart from an episode job and checked field by field", () => {
    const job = parseProcessorJob({ version: 1, kind: "retag-chapters", episodeId: "ep-1", podcastId: "pod-1", trace, extra: "dropped" });
    expect(job).toEqual({ version: 1, kind: "retag-chapters", episodeId: "ep-1", podcastId: "pod-1", trace });
    expect(isRetagChaptersJob(job)).toBe(true);
    expect(() => parseProcessorJob({ version: 1, kind: "retag-chapters", episodeId: "../x", podcastId: "pod-1", trace })).toThrow(
      "invalid retag-chapters job: episodeId",
    );
    expect(() =>
      parseProcessorJob({ version: 1, kind: "retag-chapters", episodeId: "ep-1", podcastId: "pod-1", trace: { traceparent: "x" } }),
    ).toThrow("trace.traceparent");
    expect(() => parseProcessorJob({ version: 1, kind: "transcode-everything", episodeId: "ep-1" })).toThrow("unknown kind");
    // An episode job (no kind) is parsed as before, and is not mistaken for a re-tag.
    const episodeJob = {
      version: 1,
      episodeId: "ep-1",
      podcastId: "pod-1",
      sourceKey: "s",
      filename: "f",
      size: 1,
      title: "t",
      uploadedAt: "2026-01-01",
      trace,
    };
    expect(parseProcessorJob(episodeJob)).toEqual(parseEpisodeJob(episodeJob));
    expect(isRetagChaptersJob(episodeJob)).toBe(false);
  });
});

describe("versioned media names", () => {
  it("keeps the pipeline's names for generation 1 and puts later generations in the name", () => {
    expect(mediaFile("audio-128k.mp3", undefined)).toBe("audio-128k.mp3");
    expect(mediaFile("audio-128k.mp3", 1)).toBe("audio-128k.mp3");
    expect(mediaFile("audio-128k.mp3", 2)).toBe("audio-128k.g2.mp3");
    expect(mediaFile("audio-48k.opus", 12)).toBe("audio-48k.g12.opus");
    // Valid storage keys.
    expect(keys.media("pod", "ep", mediaFile("audio-64k.m4a", 3))).toBe("public/pod/ep/audio-64k.g3.m4a");
  });
});

describe("chapters revision", () => {
  it("changes with what the files embed (times, titles), not with links that live only in chapters.json", async () => {
    const a = [
      { startTime: 0, title: "Intro" },
      { startTime: 4.25, title: "Talk" },
    ];
    expect(await chaptersRevision(a)).toBe(await chaptersRevision(structuredClone(a)));
    expect(await chaptersRevision(a)).not.toBe(await chaptersRevision([a[0]!, { startTime: 4.5, title: "Talk" }]));
    expect(await chaptersRevision(a)).not.toBe(await chaptersRevision([a[0]!, { startTime: 4.25, title: "Talks" }]));
    expect(await chaptersRevision(a)).toBe(await chaptersRevision([a[0]!, { ...a[1]!, url: "https://example.com" }]));
    expect(await chaptersRevision([])).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe("Ogg chapter comments", () => {
  it("write milliseconds exactly (ffmpeg 5.1 rounds the seconds: 7.5 s would read 8.5 s)", () => {
    expect(
      vorbisChapterComments([
        { startTime: 0, title: "A" },
        { startTime: 7.5, title: "B\nC" },
        { startTime: 3725.0625, title: "D" },
      ]),
    ).toEqual([
      ["CHAPTER000", "00:00:00.000"],
      ["CHAPTER000NAME", "A"],
      ["CHAPTER001", "00:00:07.500"],
      ["CHAPTER001NAME", "B C"],
      ["CHAPTER002", "01:02:05.063"],
      ["CHAPTER002NAME", "D"],
    ]);
  });
});
