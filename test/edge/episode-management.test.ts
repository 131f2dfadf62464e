// Managing episodes after the upload, in workerd under wrangler dev with the
// real processor: feed fields at upload time (tus-js-client) published through
// the pipeline, listing, PATCH, scheduling (the scheduled handler driven by
// hand), unpublish, delete (also by a tus DELETE), transcripts, chapters
// (also written into the renditions after publication, read back with
// ffprobe and music-metadata, traced: the OTLP both services export is
// received here, in place of Honeycomb), and concurrent edits and publishes on one show. Episodes that do not need
// the processor are stand-ins written into R2 as it would (test/support/stand-in.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tus from "tus-js-client";
import { keys } from "../../shared/storage-keys.ts";
import { scheduleKeys } from "../../shared/feed/write-feed.ts";
import { getObject, listKeys, localS3, objectExists, objectMetadata } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { makeImage, serveFiles, type FileServer } from "../support/images.ts";
import { publishStandIn } from "../support/stand-in.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { toneWav } from "../processor/generated-audio.ts";
import { waitForOutcome } from "../support/episode-flow.ts";
import { createUpload, uploadMetadata } from "../support/tus.ts";
import { checkFeed } from "../feed/validators.ts";
import type { Episode } from "../../shared/episode.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver.ts";
import { mp3WithChapters } from "../processor/generated-audio.ts";
import { getEpisode, uploadFile } from "../support/episode-flow.ts";
import { audioPacketsMd5, downloadRenditions, ffprobeChapters, musicMetadataChapters } from "../support/rendition-chapters.ts";
import { parseFile } from "music-metadata";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let art: FileServer;
let show: CreatedPodcast;
let other: CreatedPodcast;
let receiver: OtlpReceiver;
let chaptersShow: CreatedPodcast;
/** The chapters episode (below), uploaded in beforeAll and processed while the first tests run. */
let chaptersEpisode: Promise<Episode>;
let chaptersDir: string;

beforeAll(async () => {
  art = await serveFiles({ "/cover.jpg": { body: await makeImage("jpeg", 1400, 1400), type: "image/jpeg" } });
  receiver = await startOtlpReceiver();
  stack = await startTestStack({ processor: true, scheduleIntervalMs: 0, otlpEndpoint: receiver.endpoint });
  const fields = { artworkUrl: art.url("/cover.jpg"), link: "https://show.example/", ownerEmail: "host@show.example" };
  show = await createPodcast(stack, fields);
  other = await createPodcast(stack, { ...fields, title: "Another show" });
  chaptersShow = await createPodcast(stack, { ...fields, title: "Chapters Weekly" });
  chaptersDir = mkdtempSync(path.join(tmpdir(), "rendition-chapters-"));
  // A 12 s MP3 with three ID3 chapters (0, 4, 8 s): the upload's chapters.
  const mp3 = mp3WithChapters(chaptersDir, toneWav(chaptersDir, 12)).path;
  chaptersEpisode = uploadFile(stack.edgeUrl, chaptersShow.uploadToken, mp3, {
    title: "Chapters, later",
    filename: "chapters.mp3",
    filetype: "audio/mpeg",
    description: "Show notes, kept in the MP3's COMM frame.",
  } as Parameters<typeof uploadFile>[3])
    .then(({ episodeId }) => waitForOutcome(stack.edgeUrl, chaptersShow.uploadToken, episodeId, 240_000, stack.logs))
    .then(({ episode }) => episode);
  chaptersEpisode.catch(() => undefined); // awaited (and reported) by its tests
}, 120_000);
afterAll(async () => {
  await stack?.cleanup();
  await art?.close();
  await receiver?.stop();
  if (chaptersDir) rmSync(chaptersDir, { recursive: true, force: true });
});

const call = (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.edgeUrl}${path}`, {
    method,
    headers: {
      ...(typeof body === "object" ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
const feed = async (podcastId = show.podcastId, episodes?: number) => {
  const res = await fetch(`${stack.edgeUrl}/feeds/${podcastId}.xml`);
  expect(res.status).toBe(200);
  return (await checkFeed(await res.text(), episodes === undefined ? {} : { episodes })).partytime;
};
const guids = async (podcastId = show.podcastId) => (await feed(podcastId)).items.map((i) => i.guid);
const standIn = (extra: Partial<Parameters<typeof publishStandIn>[1]> = {}) =>
  publishStandIn(stack, { podcastId: show.podcastId, title: "Stand-in", ...extra });
const mediaUrl = (episodeId: string, file = "audio-128k.mp3") => `${stack.edgeUrl}/media/${show.podcastId}/${episodeId}/${file}`;

function upload(bytes: Buffer, metadata: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new tus.Upload(bytes, {
      endpoint: `${stack.edgeUrl}/uploads`,
      uploadSize: bytes.length,
      headers: { Authorization: `Bearer ${show.uploadToken}` },
      metadata,
      retryDelays: [],
      onError: reject,
      onSuccess: () => resolve(u.url!),
    });
    u.start();
  });
}

describe("episode fields at upload time, through the real processor", () => {
  let uploadUrl: string;
  let episodeId: string;

  it("publishes an episode with the season, number, type, explicit, back-dated pubDate, link, image and HTML show notes it was uploaded with", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "episode-fields-"));
    const wav = readFileSync(toneWav(dir, 3));
    rmSync(dir, { recursive: true, force: true });
    uploadUrl = await upload(wav, {
      title: "Bonus: the making of",
      filename: "bonus.wav",
      filetype: "audio/wav",
      description: "<p>Notes with <b>bold</b> text</p>",
      season: "2",
      episodeNumber: "5",
      episodeType: "bonus",
      explicit: "true",
      pubDate: "2024-01-02T03:04:05Z",
      link: "https://show.example/bonus",
      imageUrl: "https://show.example/bonus.jpg",
    });
    episodeId = uploadUrl.split("/").pop()!;
    const { episode } = await waitForOutcome(stack.edgeUrl, show.uploadToken, episodeId, 240_000, stack.logs);
    expect(episode.state, JSON.stringify(episode)).toBe("published");

    const item = (await feed()).items.find((i) => i.guid === episodeId)!;
    expect(item).toBeDefined();
    expect(item.title).toBe("Bonus: the making of");
    expect(item.itunesSeason).toBe(2);
    expect(item.itunesEpisode).toBe(5);
    expect(item.itunesEpisodeType).toBe("bonus");
    expect(item.explicit).toBe(true);
    expect(item.pubDate?.toISOString()).toBe("2024-01-02T03:04:05.000Z");
    expect(item.link).toBe("https://show.example/bonus");
    expect(item.itunesImage).toBe("https://show.example/bonus.jpg");
    expect(item.content).toBe("<p>Notes with <b>bold</b> text</p>");
    // Found again by listing the show's episodes (indexed when the upload started).
    const list = (await (await call("GET", `/podcasts/${show.podcastId}/episodes`, show.uploadToken)).json()) as {
      episodes: { episodeId: string; feed: string; details: { season?: number } }[];
    };
    expect(list.episodes.find((x) => x.episodeId === episodeId)).toMatchObject({ feed: "listed", details: { season: 2 } });
    // The enclosure's length is the bytes served.
    const head = await fetch(item.enclosure.url, { method: "HEAD" });
    expect(Number(head.headers.get("content-length"))).toBe(item.enclosure.length);
  }, 300_000);

  it.each([
    [{ season: "two" }, 'Upload-Metadata "season" must be a whole number'],
    [{ episodeType: "special" }, 'Upload-Metadata "episodeType" must be one of full, trailer, bonus'],
    [{ explicit: "maybe" }, 'Upload-Metadata "explicit" must be true or false'],
    [{ pubDate: "next tuesday" }, 'Upload-Metadata "pubDate" must be a date'],
    [{ imageUrl: "cover.jpg" }, 'Upload-Metadata "imageUrl" must be an http(s) URL'],
  ])("refuses an upload with %j, naming the key", async (fields, message) => {
    const res = await createUpload(stack.edgeUrl, show.uploadToken, {
      length: 1000,
      metadata: uploadMetadata({ title: "T", filename: "t.wav", ...fields }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(message);
  });

  it("a tus DELETE on the published upload deletes the episode: media, records, feed item", async () => {
    const res = await fetch(uploadUrl, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${show.uploadToken}`, "Tus-Resumable": "1.0.0" },
    });
    expect(res.status).toBe(204);
    expect(await guids()).not.toContain(episodeId);
    expect((await fetch(mediaUrl(episodeId))).status).toBe(404);
    const s3 = localS3(stack);
    expect(await listKeys(s3, keys.publicPrefix(show.podcastId, episodeId))).toEqual([]);
    expect(await listKeys(s3, keys.uploadPrefix(show.podcastId, episodeId))).toEqual([]);
    expect(await objectExists(s3, keys.episode(episodeId))).toBe(false);
    expect((await call("GET", `/episodes/${episodeId}`, show.uploadToken)).status).toBe(404);
    const head = await fetch(uploadUrl, {
      method: "HEAD",
      headers: { Authorization: `Bearer ${show.uploadToken}`, "Tus-Resumable": "1.0.0" },
    });
    expect(head.status).toBe(404);
  });
});

describe("GET /podcasts/:id/episodes", () => {
  it("lists a show's episodes newest first with state and feed presence, a page at a time", async () => {
    const a = await standIn({ title: "Oldest", createdAt: "2026-01-01T00:00:00.000Z" });
    const b = await standIn({ title: "Middle", createdAt: "2026-01-02T00:00:00.000Z" });
    const c = await standIn({ title: "Newest", createdAt: "2026-01-03T00:00:00.000Z" });
    const page1 = (await (await call("GET", `/podcasts/${show.podcastId}/episodes?limit=2`, show.uploadToken)).json()) as {
      episodes: Record<string, unknown>[];
      nextCursor?: string;
    };
    expect(page1.episodes.map((e) => e.title)).toEqual(["Newest", "Middle"]);
    expect(page1.episodes[0]).toMatchObject({ episodeId: c.episodeId, state: "published", feed: "listed" });
    expect(page1.nextCursor).toBeTruthy();
    const page2 = (await (
      await call("GET", `/podcasts/${show.podcastId}/episodes?limit=2&cursor=${encodeURIComponent(page1.nextCursor!)}`, stack.adminToken)
    ).json()) as { episodes: Record<string, unknown>[] };
    expect(page2.episodes.map((e) => e.episodeId)).toContain(a.episodeId);
    expect(page2.episodes.map((e) => e.episodeId)).not.toContain(b.episodeId);
  });

  it("finds the episodes of a show created before the index existed, on its first listing", async () => {
    const old = await createPodcast(stack, { title: "Older show" });
    // As a show from before the index: no episodesIndexedAt, episodes without markers.
    const s3 = localS3(stack);
    const record = JSON.parse(new TextDecoder().decode(await getObject(s3, keys.podcast(old.podcastId))));
    delete record.episodesIndexedAt;
    const { putObject } = await import("../support/s3.ts");
    await putObject(s3, keys.podcast(old.podcastId), JSON.stringify(record), "application/json");
    const e = await publishStandIn(stack, { podcastId: old.podcastId, indexed: false });
    const list = (await (await call("GET", `/podcasts/${old.podcastId}/episodes`, old.uploadToken)).json()) as {
      episodes: { episodeId: string }[];
    };
    expect(list.episodes.map((x) => x.episodeId)).toEqual([e.episodeId]);
    const after = JSON.parse(new TextDecoder().decode(await getObject(s3, keys.podcast(old.podcastId))));
    expect(after.episodesIndexedAt).toBeTruthy();
  });

  it("answers another show's token with 404, like a show that does not exist", async () => {
    expect((await call("GET", `/podcasts/${show.podcastId}/episodes`, other.uploadToken)).status).toBe(404);
    expect((await call("GET", `/podcasts/${show.podcastId}/episodes`, null)).status).toBe(401);
  });
});

describe("PATCH /episodes/:id", () => {
  it("changes the episode's metadata; the feed follows", async () => {
    const e = await standIn();
    const res = await call("PATCH", `/episodes/${e.episodeId}`, show.uploadToken, {
      title: "Renamed",
      description: "<p>New notes</p>",
      season: 3,
      episodeNumber: 12,
      episodeType: "trailer",
      explicit: true,
      pubDate: "2025-06-01T10:00:00Z",
      link: "https://show.example/12",
      imageUrl: "https://show.example/12.jpg",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const item = (await feed()).items.find((i) => i.guid === e.episodeId)!;
    expect(item).toMatchObject({
      title: "Renamed",
      itunesSeason: 3,
      itunesEpisode: 12,
      itunesEpisodeType: "trailer",
      explicit: true,
      link: "https://show.example/12",
      itunesImage: "https://show.example/12.jpg",
    });
    expect(item.pubDate?.toISOString()).toBe("2025-06-01T10:00:00.000Z");
    // The record keeps the state the sweep and the operators' listing read without opening it.
    expect(await objectMetadata(localS3(stack), keys.episode(e.episodeId))).toMatchObject({
      state: "published",
      podcastid: show.podcastId,
    });

    // null clears; the admin may too.
    expect(
      (await call("PATCH", `/episodes/${e.episodeId}`, stack.adminToken, { season: null, link: null, episodeType: null })).status,
    ).toBe(200);
    const cleared = (await feed()).items.find((i) => i.guid === e.episodeId)!;
    expect(cleared.itunesSeason).toBeUndefined();
    expect(cleared.link).toBeUndefined();
    expect(cleared.itunesEpisodeType).toBe("full");
  });

  it.each([
    [{ season: 0 }, "season must be a whole number from 1"],
    [{ episodeNumber: 1.5 }, "episodeNumber must be a whole number"],
    [{ episodeType: "special" }, "episodeType must be one of full, trailer, bonus"],
    [{ explicit: "yes" }, "explicit must be true, false or null"],
    [{ pubDate: "soon" }, "pubDate must be a date"],
    [{ title: "" }, "title must be a non-empty string"],
    [{ description: "é".repeat(2001) }, "description must be at most 4000 bytes"],
    [{ state: "published" }, "state is not an editable field of an episode"],
  ])("400s %j naming the field", async (patch, message) => {
    const e = await standIn({ writeFeed: false });
    const res = await call("PATCH", `/episodes/${e.episodeId}`, show.uploadToken, patch);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(message);
  });

  it("is 404 for another show's token on every episode endpoint and for unknown episodes; the admin may", async () => {
    const e = await standIn({ writeFeed: false });
    expect((await call("PATCH", `/episodes/${e.episodeId}`, other.uploadToken, { title: "x" })).status).toBe(404);
    expect((await call("GET", `/episodes/${e.episodeId}`, other.uploadToken)).status).toBe(404);
    expect((await call("DELETE", `/episodes/${e.episodeId}`, other.uploadToken)).status).toBe(404);
    expect((await call("POST", `/episodes/${e.episodeId}/unpublish`, other.uploadToken)).status).toBe(404);
    expect((await call("POST", `/episodes/${e.episodeId}/publish`, other.uploadToken)).status).toBe(404);
    expect(
      (
        await call("PUT", `/episodes/${e.episodeId}/transcript`, other.uploadToken, "WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n", {
          "Content-Type": "text/vtt",
        })
      ).status,
    ).toBe(404);
    expect((await call("PUT", `/episodes/${e.episodeId}/chapters`, other.uploadToken, [{ startTime: 0, title: "A" }])).status).toBe(404);
    expect((await call("DELETE", `/episodes/${e.episodeId}/chapters`, other.uploadToken)).status).toBe(404);
    expect((await call("DELETE", `/episodes/${e.episodeId}/chapters`, null)).status).toBe(401);
    expect((await call("GET", `/episodes/${e.episodeId}`, null)).status).toBe(401);
    expect((await call("GET", `/episodes/${e.episodeId}`, "pp_nope_aaaaaaaaaaaaaaaaaaaaaaaa")).status).toBe(403);
    // The admin reaches every show's episodes.
    expect((await call("POST", `/episodes/${e.episodeId}/unpublish`, stack.adminToken)).status).toBe(200);
    expect((await call("POST", `/episodes/${e.episodeId}/publish`, stack.adminToken)).status).toBe(200);
    expect((await call("PUT", `/episodes/${e.episodeId}/chapters`, stack.adminToken, [{ startTime: 0, title: "A" }])).status).toBe(200);
    expect((await call("PATCH", `/episodes/00000000-0000-4000-8000-000000000000`, stack.adminToken, { title: "x" })).status).toBe(404);
  });
});

describe("scheduling", () => {
  it("keeps a future-dated episode out of the feed until the scheduled handler finds it due", async () => {
    const e = await standIn({ title: "Scheduled" });
    // Far enough ahead that a loaded machine still checks "not yet" before it is due.
    const due = new Date(Date.now() + 10_000);
    const res = await call("PATCH", `/episodes/${e.episodeId}`, show.uploadToken, { pubDate: due.toISOString() });
    expect(((await res.json()) as { feed: string }).feed).toBe("scheduled");
    expect(await guids()).not.toContain(e.episodeId);
    expect(await objectExists(localS3(stack), scheduleKeys.show(show.podcastId))).toBe(true);

    // A tick before it is due changes nothing.
    expect((await fetch(`${stack.edgeUrl}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    expect(await guids()).not.toContain(e.episodeId);

    await new Promise((r) => setTimeout(r, Math.max(0, due.getTime() - Date.now()) + 500));
    expect((await fetch(`${stack.edgeUrl}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    const item = (await feed()).items.find((i) => i.guid === e.episodeId);
    expect(item?.pubDate?.toISOString()).toBe(new Date(Math.floor(due.getTime() / 1000) * 1000).toISOString());
    expect(await objectExists(localS3(stack), scheduleKeys.show(show.podcastId))).toBe(false);
    const listed = (await (await call("GET", `/episodes/${e.episodeId}`, show.uploadToken)).json()) as { feed: string };
    expect(listed.feed).toBe("listed");
  }, 60_000);
});

describe("scheduled at upload", () => {
  it("an episode the pipeline publishes with a future pubDate waits for the scheduled handler", async () => {
    // The stand-in publishes as distribute does: its entry, then the shared feed writer through the S3 API.
    const due = new Date(Date.now() + 10_000);
    const e = await standIn({ title: "Scheduled at upload", details: { pubDate: due.toISOString() } });
    expect(await guids()).not.toContain(e.episodeId);
    const view = (await (await call("GET", `/episodes/${e.episodeId}`, show.uploadToken)).json()) as { feed: string };
    expect(view.feed).toBe("scheduled");
    await new Promise((r) => setTimeout(r, Math.max(0, due.getTime() - Date.now()) + 500));
    expect(await guids()).not.toContain(e.episodeId); // nothing rewrites the feed by itself...
    expect((await fetch(`${stack.edgeUrl}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    expect(await guids()).toContain(e.episodeId); // ...until the tick
  }, 60_000);
});

describe("unpublish, publish, delete", () => {
  it("unpublish takes the episode out of the feed and keeps its media; publish puts it back", async () => {
    const e = await standIn();
    const out = await call("POST", `/episodes/${e.episodeId}/unpublish`, show.uploadToken);
    expect(out.status).toBe(200);
    expect(((await out.json()) as { feed: string }).feed).toBe("unpublished");
    expect(await guids()).not.toContain(e.episodeId);
    expect((await fetch(mediaUrl(e.episodeId))).status).toBe(200);
    expect((await call("POST", `/episodes/${e.episodeId}/publish`, show.uploadToken)).status).toBe(200);
    expect(await guids()).toContain(e.episodeId);
  });

  it("DELETE removes media, records and the feed item", async () => {
    const e = await standIn();
    expect(await guids()).toContain(e.episodeId);
    expect((await call("DELETE", `/episodes/${e.episodeId}`, show.uploadToken)).status).toBe(204);
    expect(await guids()).not.toContain(e.episodeId);
    expect((await fetch(mediaUrl(e.episodeId))).status).toBe(404);
    const s3 = localS3(stack);
    expect(await objectExists(s3, keys.episode(e.episodeId))).toBe(false);
    expect(await objectExists(s3, keys.published(show.podcastId, e.episodeId))).toBe(false);
    const list = (await (await call("GET", `/podcasts/${show.podcastId}/episodes?limit=100`, show.uploadToken)).json()) as {
      episodes: { episodeId: string }[];
    };
    expect(list.episodes.map((x) => x.episodeId)).not.toContain(e.episodeId);
  });

  it("refuses to delete or edit an episode the pipeline is working on", async () => {
    const e = await standIn({ writeFeed: false });
    const s3 = localS3(stack);
    const record = JSON.parse(new TextDecoder().decode(await getObject(s3, keys.episode(e.episodeId))));
    const { putObject } = await import("../support/s3.ts");
    await putObject(s3, keys.episode(e.episodeId), JSON.stringify({ ...record, state: "processing" }), "application/json");
    expect((await call("DELETE", `/episodes/${e.episodeId}`, show.uploadToken)).status).toBe(409);
    const patch = await call("PATCH", `/episodes/${e.episodeId}`, show.uploadToken, { title: "x" });
    expect(patch.status).toBe(409);
    expect(((await patch.json()) as { error: string }).error).toContain("episode is processing");
  });
});

describe("transcripts and chapters", () => {
  const vtt = "WEBVTT\n\n00:00.000 --> 00:01.500\n<v Host>Hello and welcome.\n\n00:01.500 --> 00:03.000\n<v Guest>Thanks for having me.\n";
  const srt = "1\n00:00:00,000 --> 00:00:01,500\nHello and welcome.\n\n2\n00:00:01,500 --> 00:00:03,000\nThanks for having me.\n";

  it("stores a WebVTT and an SRT transcript and lists both in the feed with type and language", async () => {
    const e = await standIn();
    const put = (body: string, type: string, query = "") =>
      call("PUT", `/episodes/${e.episodeId}/transcript${query}`, show.uploadToken, body, { "Content-Type": type });
    expect((await put(vtt, "text/vtt", "?language=en-gb")).status).toBe(200);
    expect((await put(srt, "application/srt")).status).toBe(200);
    const served = await fetch(mediaUrl(e.episodeId, "transcript.vtt"));
    expect(served.headers.get("content-type")).toBe("text/vtt; charset=utf-8");
    expect(await served.text()).toBe(vtt);
    const item = (await feed()).items.find((i) => i.guid === e.episodeId)!;
    expect(item.podcastTranscripts).toEqual([
      expect.objectContaining({ url: mediaUrl(e.episodeId, "transcript.vtt"), type: "text/vtt", language: "en-GB" }),
      expect.objectContaining({ url: mediaUrl(e.episodeId, "transcript.srt"), type: "application/srt", language: "en" }),
    ]);
  });

  it.each([
    ["WEBVTT\n\n00:01.000 -> 00:02.000\nHi\n", "text/vtt", 400, "line 3: expected a cue timing"],
    ["Hello\n", "text/vtt", 400, 'line 1: must start with "WEBVTT"'],
    ["WEBVTT\n\n00:02.000 --> 00:01.000\nHi\n", "text/vtt", 400, "the cue ends before it starts"],
    ["1\n00:00:01,000 --> 00:00:02,000\n\n", "application/srt", 400, "the cue has no text"],
    ["WEBVTT\n", "text/plain", 415, "Content-Type must be text/vtt"],
  ])("refuses %j (%s)", async (body, type, status, message) => {
    const e = await standIn({ writeFeed: false });
    const res = await call("PUT", `/episodes/${e.episodeId}/transcript`, show.uploadToken, body, { "Content-Type": type });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toContain(message);
    expect(await objectExists(localS3(stack), keys.media(show.podcastId, e.episodeId, "transcript.vtt"))).toBe(false);
  });

  it("refuses a transcript over 5 MiB, even without a Content-Length", async () => {
    const e = await standIn({ writeFeed: false });
    const cue = `00:00.000 --> 00:01.000\n${"x".repeat(1000)}\n\n`;
    const big = `WEBVTT\n\n${cue.repeat(Math.ceil((5 * 1024 * 1024) / cue.length) + 1)}`;
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await fetch(`${stack.edgeUrl}/episodes/${e.episodeId}/transcript`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${show.uploadToken}`, "Content-Type": "text/vtt" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("refuses a transcript language that is not BCP 47", async () => {
    const e = await standIn({ writeFeed: false });
    const res = await call("PUT", `/episodes/${e.episodeId}/transcript?language=zz`, show.uploadToken, vtt, { "Content-Type": "text/vtt" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("language must be a BCP 47 tag");
  });

  it("publishes creator-supplied JSON chapters as podcast:chapters", async () => {
    const e = await standIn();
    const chapters = {
      version: "1.2.0",
      chapters: [
        { startTime: 0, title: "Intro" },
        { startTime: 1.5, title: "Interview", url: "https://show.example/guest" },
      ],
    };
    const res = await call("PUT", `/episodes/${e.episodeId}/chapters`, show.uploadToken, chapters);
    expect(res.status, await res.clone().text()).toBe(200);
    const served = await fetch(mediaUrl(e.episodeId, "chapters.json"));
    expect(served.headers.get("content-type")).toBe("application/json+chapters");
    expect(((await served.json()) as typeof chapters).chapters.map((c) => c.title)).toEqual(["Intro", "Interview"]);
    expect((await feed()).items.find((i) => i.guid === e.episodeId)!.podcastChapters?.url).toBe(mediaUrl(e.episodeId, "chapters.json"));

    const bad = await call("PUT", `/episodes/${e.episodeId}/chapters`, show.uploadToken, {
      version: "1.2.0",
      chapters: [
        { startTime: 2, title: "B" },
        { startTime: 1, title: "A" },
      ],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("chapters must be in order");
    const late = await call("PUT", `/episodes/${e.episodeId}/chapters`, show.uploadToken, [{ startTime: 10, title: "After the end" }]);
    expect(((await late.json()) as { error: string }).error).toContain("after the end of the episode (3s)");
  });
});

describe("chapters written into the renditions after publication", () => {
  const chapters = [
    { startTime: 0, title: "Cold open" },
    { startTime: 4.25, title: "The interview" },
    { startTime: 7.5, title: "Wrap-up; thanks = many" },
  ];
  let published: Episode;
  let episodeId: string;
  /** MD5 of each rendition's audio packets as first published: a re-tag must leave them as they are. */
  const packetsMd5 = new Map<string, string>();
  const manage = (method: string, p: string, body?: unknown) => call(method, p, chaptersShow.uploadToken, body);

  /** Polls the status API until the re-tag of the latest chapters has run. */
  async function waitForRetag(): Promise<Episode & { chaptersRetag: NonNullable<Episode["chaptersRetag"]> }> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const e = await getEpisode(stack.edgeUrl, chaptersShow.uploadToken, episodeId);
      if (e.chaptersRetag && e.chaptersRetag.state !== "pending") return e as never;
      if (Date.now() > deadline) throw new Error(`re-tag still pending: ${JSON.stringify(e.chaptersRetag)}\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  async function feedItem() {
    const xml = await (await fetch(`${stack.edgeUrl}/feeds/${chaptersShow.podcastId}.xml`)).text();
    const item = (await checkFeed(xml)).partytime.items.find((i) => i.guid === episodeId)!;
    return { xml, item };
  }

  it("are written into every rendition, under new URLs, by stream copy, in the request's trace", async () => {
    published = await chaptersEpisode;
    expect(published.state, JSON.stringify(published)).toBe("published");
    episodeId = published.episodeId;
    const before = await downloadRenditions(published, chaptersDir);
    await Promise.all([...before].map(async ([id, file]) => packetsMd5.set(id, await audioPacketsMd5(file))));
    expect((await ffprobeChapters(before.get("mp3_128k")!)).map((c) => c.title)).toEqual(["Intro", "The guest", "Codecs; opinions = many"]);

    const res = await manage("PUT", `/episodes/${episodeId}/chapters`, { version: "1.2.0", chapters });
    expect(res.status, await res.clone().text()).toBe(200);
    const answer = (await res.json()) as Episode;
    expect(answer.chaptersRetag).toMatchObject({ state: "pending" });
    // Until the re-tag has run, the episode keeps its files.
    expect(answer.renditions!.map((r) => r.url)).toEqual(published.renditions!.map((r) => r.url));

    const e = await waitForRetag();
    expect(e.chaptersRetag.state, JSON.stringify(e)).toBe("done");
    expect(e.warnings ?? []).toEqual([]);
    expect(e.renditions!.map((r) => r.id).sort()).toEqual(RENDITIONS.map((r) => r.id).sort());
    for (const r of e.renditions!) {
      expect(r.url).not.toBe(published.renditions!.find((o) => o.id === r.id)!.url);
      expect(r.url).toMatch(/\.g2\.(mp3|m4a|opus)$/);
    }
    const after = await downloadRenditions(e, chaptersDir);
    await Promise.all(
      [...after].map(async ([id, file]) => {
        const [probed, read, md5] = await Promise.all([ffprobeChapters(file), musicMetadataChapters(file), audioPacketsMd5(file)]);
        expect(
          probed.map((c) => c.title),
          `${id} (ffprobe)`,
        ).toEqual(chapters.map((c) => c.title));
        for (const [i, c] of probed.entries()) expect(c.start, `${id} chapter ${i} start (ffprobe)`).toBeCloseTo(chapters[i]!.startTime, 3);
        expect(
          read.map((c) => c.title),
          `${id} (music-metadata)`,
        ).toEqual(chapters.map((c) => c.title));
        for (const [i, c] of read.entries())
          expect(c.start, `${id} chapter ${i} start (music-metadata)`).toBeCloseTo(chapters[i]!.startTime, 3);
        // Not re-encoded, not re-normalised: the same audio packets, byte for byte.
        expect(md5, `${id} audio`).toBe(packetsMd5.get(id));
      }),
    );
    // The MP3's other tags survive the re-tag, the COMM frame (which ffmpeg cannot write) included.
    const tags = (await parseFile(after.get("mp3_128k")!)).common;
    expect(tags.title).toBe("Chapters, later");
    expect(tags.comment?.map((c) => (typeof c === "string" ? c : c.text))).toEqual(["Show notes, kept in the MP3's COMM frame."]);

    // The feed: same guid, new enclosure URLs with the lengths served, no old URL left.
    const { xml, item } = await feedItem();
    expect(item.guid).toBe(episodeId);
    expect(item.enclosure.url).toBe(e.renditions!.find((r) => r.id === "mp3_128k")!.url);
    const head = await fetch(item.enclosure.url, { method: "HEAD" });
    expect(Number(head.headers.get("content-length"))).toBe(item.enclosure.length);
    for (const r of e.renditions!) expect(xml).toContain(r.url);
    for (const r of published.renditions!) expect(xml).not.toContain(r.url);

    // The old objects are gone, now that the feed points at the new ones.
    const stored = await listKeys(localS3(stack), keys.publicPrefix(chaptersShow.podcastId, episodeId));
    for (const r of published.renditions!) {
      expect(stored).not.toContain(r.key);
      expect((await fetch(r.url)).status).toBe(404);
    }

    // Its own trace: the request's, continued by the queue consumer and the processor; a span per step.
    const inTrace = () => receiver.spans().filter((s) => s.traceId === e.chaptersRetag.traceId);
    const steps = ["download", "rewrite", "upload", "switch", "cleanup"] as const;
    await receiver.waitFor(() => steps.every((s) => inTrace().some((x) => x.name === SPANS.retagStep(s))), 15_000);
    const run = inTrace().find((s) => s.name === SPANS.retag)!;
    expect(run.attributes[ATTR.retagRenditionCount]).toBe(RENDITIONS.length);
    expect(run.attributes[ATTR.retagGeneration]).toBe(2);
    expect(inTrace().find((s) => s.spanId === run.parentSpanId)?.name, "the run's parent").toMatch(/^process /);
    for (const step of steps) expect(inTrace().find((x) => x.name === SPANS.retagStep(step))!.parentSpanId).toBe(run.spanId);
  }, 300_000);

  it("refuses invalid chapters with 400 and starts no re-tag", async () => {
    const s3 = localS3(stack);
    const before = await getEpisode(stack.edgeUrl, chaptersShow.uploadToken, episodeId);
    const stored = await getObject(s3, keys.suppliedChapters(chaptersShow.podcastId, episodeId));
    const res = await manage("PUT", `/episodes/${episodeId}/chapters`, [
      { startTime: 3, title: "B" },
      { startTime: 1, title: "A" },
    ]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("chapters must be in order");
    expect(
      (
        await manage("PUT", `/episodes/${episodeId}/chapters`, [
          { startTime: 0, title: "A" },
          { startTime: 30, title: "After the end" },
        ])
      ).status,
    ).toBe(400);
    const after = await getEpisode(stack.edgeUrl, chaptersShow.uploadToken, episodeId);
    expect(after.chaptersRetag).toEqual(before.chaptersRetag);
    expect(after.renditions).toEqual(before.renditions);
    expect(await getObject(s3, keys.suppliedChapters(chaptersShow.podcastId, episodeId))).toEqual(stored);
  });

  it("a re-tag that fails leaves the episode published with its files as they were, and says why", async () => {
    // A stand-in's "MP3" is not audio: ffmpeg cannot copy it, as a damaged stored file would fail.
    const e = await publishStandIn(stack, { podcastId: chaptersShow.podcastId, title: "Not really audio", durationSeconds: 12 });
    const res = await manage("PUT", `/episodes/${e.episodeId}/chapters`, chapters);
    expect(res.status, await res.clone().text()).toBe(200);
    let now: Episode;
    for (const deadline = Date.now() + 60_000; ; ) {
      now = await getEpisode(stack.edgeUrl, chaptersShow.uploadToken, e.episodeId);
      if (now.chaptersRetag?.state !== "pending" || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(now.chaptersRetag, JSON.stringify(now)).toMatchObject({ state: "failed", reason: expect.stringContaining("ffmpeg") });
    expect(now.state).toBe("published");
    expect(now.warnings).toEqual([{ kind: "chapters", message: expect.stringContaining("they keep their previous chapters") }]);
    // The same files, still served and still in the feed; nothing of the attempt left behind.
    expect(now.renditions!.map((r) => [r.url, r.bytes])).toEqual(e.renditions!.map((r) => [r.url, r.bytes]));
    expect((await fetch(e.renditions![0]!.url)).status).toBe(200);
    const xml = await (await fetch(`${stack.edgeUrl}/feeds/${chaptersShow.podcastId}.xml`)).text();
    expect(xml).toContain(e.renditions![0]!.url);
    expect(
      (await listKeys(localS3(stack), keys.publicPrefix(chaptersShow.podcastId, e.episodeId))).filter((k) => /\.g\d+\./.test(k)),
    ).toEqual([]);
  }, 90_000);

  it("DELETE on an episode whose files carry no chapters rewrites nothing", async () => {
    const e = await publishStandIn(stack, { podcastId: chaptersShow.podcastId, title: "Never had chapters", durationSeconds: 12 });
    const res = await manage("DELETE", `/episodes/${e.episodeId}/chapters`);
    expect(res.status, await res.clone().text()).toBe(200);
    const after = await getEpisode(stack.edgeUrl, chaptersShow.uploadToken, e.episodeId);
    expect(after.chaptersRetag).toBeUndefined();
    expect(after.chapters).toBeUndefined();
    expect(after.renditions!.map((r) => r.url)).toEqual(e.renditions!.map((r) => r.url));
  });

  it("DELETE removes the chapters from every rendition and from the feed", async () => {
    const res = await manage("DELETE", `/episodes/${episodeId}/chapters`);
    expect(res.status, await res.clone().text()).toBe(200);
    const e = await waitForRetag();
    expect(e.chaptersRetag.state, JSON.stringify(e)).toBe("done");
    expect(e.renditions!.every((r) => /\.g3\./.test(r.url))).toBe(true);
    await Promise.all(
      [...(await downloadRenditions(e, chaptersDir))].map(async ([id, file]) => {
        expect(await ffprobeChapters(file), id).toEqual([]);
        expect(await musicMetadataChapters(file), id).toEqual([]);
        expect(await audioPacketsMd5(file), `${id} audio`).toBe(packetsMd5.get(id));
      }),
    );
    const { item } = await feedItem();
    expect(item.guid).toBe(episodeId);
    expect(item.podcastChapters).toBeUndefined();
    expect(item.enclosure.url).toBe(e.renditions!.find((r) => r.id === "mp3_128k")!.url);
    expect((await fetch(`${stack.edgeUrl}/media/${chaptersShow.podcastId}/${episodeId}/chapters.json`)).status).toBe(404);
  }, 90_000);
});

describe("concurrent edits and publishes on one show", () => {
  it("never loses or duplicates an item", async () => {
    const fresh = await createPodcast(stack, {
      artworkUrl: art.url("/cover.jpg"),
      link: "https://fresh.example/",
      ownerEmail: "a@fresh.example",
    });
    const existing = [];
    for (let i = 0; i < 4; i++) existing.push(await publishStandIn(stack, { podcastId: fresh.podcastId, title: `Before ${i}` }));
    const published = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => publishStandIn(stack, { podcastId: fresh.podcastId, title: `Concurrent ${i}` })),
      ...existing.map((e, i) =>
        call("PATCH", `/episodes/${e.episodeId}`, fresh.uploadToken, { title: `Edited ${i}` }).then((r) => {
          expect(r.status).toBe(200);
          return undefined;
        }),
      ),
      call("PATCH", `/podcasts/${fresh.podcastId}`, fresh.uploadToken, { title: "Fresh, renamed" }).then(() => undefined),
    ]);
    const added = published.filter((e) => e !== undefined);
    const f = await feed(fresh.podcastId, 9);
    const ids = f.items.map((i) => i.guid);
    expect(new Set(ids).size).toBe(9);
    expect(ids.sort()).toEqual([...existing, ...added].map((e) => e!.episodeId).sort());
    expect(f.title).toBe("Fresh, renamed");
    for (const [i, e] of existing.entries()) expect(f.items.find((x) => x.guid === e.episodeId)!.title).toBe(`Edited ${i}`);
  }, 60_000);

  it("every episode whose feed write returned is in every feed served from then on", async () => {
    // Eight episodes of one new show published at once, each writing the feed as distribute does
    // (shared/feed/write-feed.ts against the local R2 through the S3 endpoint). A writer that
    // rendered before another's entry landed must not put its stale feed over the newer one: as
    // each returns, the feed must hold its episode and every episode returned before it.
    const busy = await createPodcast(stack, {
      title: "Busy show",
      artworkUrl: art.url("/cover.jpg"),
      link: "https://busy.example/",
      ownerEmail: "a@busy.example",
    });
    const returned: string[] = [];
    const problems: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const e = await publishStandIn(stack, { podcastId: busy.podcastId, title: `Rush ${i}` });
        returned.push(e.episodeId);
        const due = [...returned];
        const served = await guids(busy.podcastId);
        for (const id of due) if (!served.some((g) => g?.includes(id))) problems.push(`${id} missing after ${e.episodeId} returned`);
      }),
    );
    expect(problems).toEqual([]);
    expect((await guids(busy.podcastId)).length).toBe(8);
  });
});
