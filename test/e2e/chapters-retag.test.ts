// Chapters supplied after publication, written into the renditions: a 12 s
// MP3 with three ID3 chapters uploaded with tus-js-client and published by the
// real processor (wrangler dev + Node, real ffmpeg), then PUT/DELETE
// /episodes/:id/chapters. Every rendition is read back from the edge with
// ffprobe and music-metadata; the feed with podcast-partytime; the trace
// from the OTLP both services export (only Honeycomb is replaced, by the
// in-test receiver).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseFile } from "music-metadata";
import { parseFeed } from "podcast-partytime";
import type { Episode } from "../../shared/episode.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { keys } from "../../shared/storage-keys.ts";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver.ts";
import { mp3WithChapters, toneWav } from "../processor/generated-audio.ts";
import { getEpisode, uploadFile, waitForOutcome } from "../support/episode-flow.ts";
import { getObject, listKeys, localS3 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";

let receiver: OtlpReceiver;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let show: CreatedPodcast;
let dir: string;
let episodeId: string;
let published: Episode;
/** MD5 of each rendition's audio packets as first published: a re-tag must leave them as they are. */
const packetsMd5 = new Map<string, string>();

const call = (method: string, p: string, body?: unknown) =>
  fetch(`${stack.edgeUrl}${p}`, {
    method,
    headers: { Authorization: `Bearer ${show.uploadToken}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

type Probe = { chapters: { start_time: string; end_time: string; tags?: { title?: string } }[] };
const ffprobeChapters = (file: string) =>
  (JSON.parse(execFileSync("ffprobe", ["-v", "error", "-of", "json", "-show_chapters", file], { encoding: "utf8" })) as Probe).chapters.map((c) => ({
    start: Number(c.start_time),
    title: c.tags?.title,
  }));
const audioPacketsMd5 = (file: string) =>
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-i", file, "-map", "0:a", "-c", "copy", "-f", "md5", "-"], { encoding: "utf8" }).trim();

/** Each rendition as served by the edge, saved to a file; its Content-Length checked against the record's bytes. */
async function download(e: Episode): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  await Promise.all(
    e.renditions!.map(async (r) => {
      const res = await fetch(r.url);
      expect(res.status, r.url).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.length, r.id).toBe(r.bytes);
      const file = path.join(dir, `${r.id}-${path.basename(new URL(r.url).pathname)}`);
      writeFileSync(file, bytes);
      files.set(r.id, file);
    }),
  );
  return files;
}

/** Chapters as music-metadata reads them (what players see): MP3/MP4 chapters in seconds, Ogg's CHAPTERxxx comments. */
async function musicMetadataChapters(file: string): Promise<{ start: number; title: string }[]> {
  const meta = await parseFile(file, { includeChapters: true });
  if (meta.format.container?.toLowerCase().includes("ogg")) {
    const tags = Object.values(meta.native).flat();
    const value = (id: string) => tags.find((t) => t.id.toUpperCase() === id)?.value as string | undefined;
    const out = [];
    for (let i = 0; value(`CHAPTER${String(i).padStart(3, "0")}`) !== undefined; i++) {
      const n = String(i).padStart(3, "0");
      const [h, m, s] = value(`CHAPTER${n}`)!.split(":").map(Number);
      out.push({ start: h! * 3600 + m! * 60 + s!, title: value(`CHAPTER${n}NAME`)! });
    }
    return out;
  }
  return (meta.format.chapters ?? []).map((c) => ({ start: c.timeScale ? c.start / c.timeScale : c.start, title: c.title }));
}

/** Polls the status API until the re-tag of the latest chapters has run. */
async function waitForRetag(): Promise<Episode & { chaptersRetag: NonNullable<Episode["chaptersRetag"]> }> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const e = await getEpisode(stack.edgeUrl, show.uploadToken, episodeId);
    if (e.chaptersRetag && e.chaptersRetag.state !== "pending") return e as never;
    if (Date.now() > deadline) throw new Error(`re-tag still pending: ${JSON.stringify(e.chaptersRetag)}\n${stack.logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function feedItem() {
  const xml = await (await fetch(`${stack.edgeUrl}/feeds/${show.podcastId}.xml`)).text();
  const item = parseFeed(xml)!.items.find((i) => i.guid === episodeId)!;
  return { xml, item };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "chapters-retag-"));
  receiver = await startOtlpReceiver();
  stack = await startTestStack({ processor: true, otlpEndpoint: receiver.endpoint, scheduleIntervalMs: 0 });
  show = await createPodcast(stack, { title: "Chapters Weekly" });
  const upload = mp3WithChapters(dir, toneWav(dir, 12));
  ({ episodeId } = await uploadFile(stack.edgeUrl, show.uploadToken, upload.path, { title: "Chapters, later", filename: "chapters.mp3", filetype: "audio/mpeg" }));
  published = (await waitForOutcome(stack.edgeUrl, show.uploadToken, episodeId, 120_000, stack.logs)).episode;
  expect(published.state, JSON.stringify(published)).toBe("published");
  for (const [id, file] of await download(published)) packetsMd5.set(id, audioPacketsMd5(file));
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await receiver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("chapters supplied after publication", () => {
  const chapters = [
    { startTime: 0, title: "Cold open" },
    { startTime: 4.25, title: "The interview" },
    { startTime: 7.5, title: "Wrap-up; thanks = many" },
  ];

  it("are written into every rendition, under new URLs, by stream copy, in the request's trace", async () => {
    // Before: the upload's chapters.
    const before = await download(published);
    expect(ffprobeChapters(before.get("mp3_128k")!).map((c) => c.title)).toEqual(["Intro", "The guest", "Codecs; opinions = many"]);

    const res = await call("PUT", `/episodes/${episodeId}/chapters`, { version: "1.2.0", chapters });
    expect(res.status, await res.clone().text()).toBe(200);
    const answer = (await res.json()) as Episode;
    expect(answer.chaptersRetag).toMatchObject({ state: "pending" });
    // Until the re-tag has run, the episode keeps serving its old files.
    expect(answer.renditions!.map((r) => r.url)).toEqual(published.renditions!.map((r) => r.url));

    const e = await waitForRetag();
    expect(e.chaptersRetag.state, JSON.stringify(e)).toBe("done");
    expect(e.warnings ?? []).toEqual([]);
    expect(e.renditions!.map((r) => r.id).sort()).toEqual(RENDITIONS.map((r) => r.id).sort());
    for (const r of e.renditions!) {
      const old = published.renditions!.find((o) => o.id === r.id)!;
      expect(r.url).not.toBe(old.url);
      expect(r.url).toMatch(/\.g2\.(mp3|m4a|opus)$/);
    }

    const after = await download(e);
    for (const [id, file] of after) {
      const probed = ffprobeChapters(file);
      expect(probed.map((c) => c.title), `${id} (ffprobe)`).toEqual(chapters.map((c) => c.title));
      probed.forEach((c, i) => expect(c.start, `${id} chapter ${i} start (ffprobe)`).toBeCloseTo(chapters[i]!.startTime, 3));
      const read = await musicMetadataChapters(file);
      expect(read.map((c) => c.title), `${id} (music-metadata)`).toEqual(chapters.map((c) => c.title));
      read.forEach((c, i) => expect(c.start, `${id} chapter ${i} start (music-metadata)`).toBeCloseTo(chapters[i]!.startTime, 3));
      // Not re-encoded, not re-normalised: the same audio packets, byte for byte.
      expect(audioPacketsMd5(file), `${id} audio`).toBe(packetsMd5.get(id));
    }
    // The MP3's other tags survive (title, the COMM comment is rewritten by the processor).
    const mp3 = await parseFile(after.get("mp3_128k")!);
    expect(mp3.common.title).toBe("Chapters, later");

    // The feed: same guid, new enclosure URLs with the lengths served; no old URL left anywhere.
    const { xml, item } = await feedItem();
    const main = e.renditions!.find((r) => r.id === "mp3_128k")!;
    expect(item.guid).toBe(episodeId);
    expect(item.enclosure.url).toBe(main.url);
    const head = await fetch(item.enclosure.url, { method: "HEAD" });
    expect(Number(head.headers.get("content-length"))).toBe(item.enclosure.length);
    for (const r of e.renditions!) expect(xml).toContain(r.url);
    for (const r of published.renditions!) expect(xml).not.toContain(r.url);
    expect(((await (await fetch(item.podcastChapters!.url)).json()) as { chapters: { title: string }[] }).chapters.map((c) => c.title)).toEqual(chapters.map((c) => c.title));

    // The old objects are gone once the feed points at the new ones.
    const stored = await listKeys(localS3(stack), keys.publicPrefix(show.podcastId, episodeId));
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
    const byId = new Map(inTrace().map((s) => [s.spanId, s]));
    expect(byId.get(run.parentSpanId!)?.name, "the run's parent").toMatch(/^process /);
    for (const step of steps) expect(inTrace().find((x) => x.name === SPANS.retagStep(step))!.parentSpanId).toBe(run.spanId);
  }, 90_000);

  it("refuses invalid chapters with 400 and sends no job", async () => {
    const s3 = localS3(stack);
    const before = await getEpisode(stack.edgeUrl, show.uploadToken, episodeId);
    const stored = await getObject(s3, keys.suppliedChapters(show.podcastId, episodeId));
    const res = await call("PUT", `/episodes/${episodeId}/chapters`, [{ startTime: 3, title: "B" }, { startTime: 1, title: "A" }]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("chapters must be in order");
    const late = await call("PUT", `/episodes/${episodeId}/chapters`, [{ startTime: 0, title: "A" }, { startTime: 30, title: "After the end" }]);
    expect(late.status).toBe(400);
    const after = await getEpisode(stack.edgeUrl, show.uploadToken, episodeId);
    // No re-tag was requested: the record's re-tag state and files are as they were.
    expect(after.chaptersRetag).toEqual(before.chaptersRetag);
    expect(after.renditions).toEqual(before.renditions);
    expect(await getObject(s3, keys.suppliedChapters(show.podcastId, episodeId))).toEqual(stored);
  });

  it("DELETE removes the chapters from every rendition and from the feed", async () => {
    const res = await call("DELETE", `/episodes/${episodeId}/chapters`);
    expect(res.status, await res.clone().text()).toBe(200);
    const e = await waitForRetag();
    expect(e.chaptersRetag.state, JSON.stringify(e)).toBe("done");
    expect(e.renditions!.every((r) => /\.g3\./.test(r.url))).toBe(true);
    for (const [id, file] of await download(e)) {
      expect(ffprobeChapters(file), id).toEqual([]);
      expect(await musicMetadataChapters(file), id).toEqual([]);
      expect(audioPacketsMd5(file), `${id} audio`).toBe(packetsMd5.get(id));
    }
    const { item } = await feedItem();
    expect(item.guid).toBe(episodeId);
    expect(item.podcastChapters).toBeUndefined();
    expect(item.enclosure.url).toBe(e.renditions!.find((r) => r.id === "mp3_128k")!.url);
    expect((await fetch(`${stack.edgeUrl}/media/${show.podcastId}/${episodeId}/chapters.json`)).status).toBe(404);
  }, 60_000);
});
