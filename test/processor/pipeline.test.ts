/**
 * The whole pipeline through the processor's HTTP API against a real local R2
 * bucket (wrangler dev's S3 endpoint, via local/stack.ts). The processor runs
 * in-process so an in-memory span exporter (the SDK's own, through the
 * startProcessor test hook) can check span parentage; everything else is real.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Episode } from "../../shared/episode.ts";
import type { EpisodeJob } from "../../shared/job.ts";
import type { Podcast } from "../../shared/podcast.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { keys } from "../../shared/storage-keys.ts";
import { ATTR, SPANS, STAGES } from "../../shared/telemetry.ts";
import { leaseKey } from "../../shared/episode-lifecycle.ts";
import { SIGNATURE_HEADER, signJob } from "../../shared/job-signature.ts";
import { startLocalStack, LOCAL_S3, type LocalStack } from "../../local/stack.ts";
import { loadConfig } from "../../processor/config.ts";
import { startProcessor, type RunningProcessor } from "../../processor/service.ts";
import { Bucket } from "../../processor/storage/bucket.ts";
import { parseFile } from "music-metadata";
import { startArtworkServer, type ArtworkServer } from "./artwork-server.ts";
import { ffmpeg, mp3WithChapters, speechWav, toneWav } from "./generated-audio.ts";
import { execFileSync } from "node:child_process";
import { suppliedChapters } from "../../shared/supplied-chapters.ts";

let dir: string;
let stack: LocalStack;
let processor: RunningProcessor;
let bucket: Bucket;
let artwork: ArtworkServer;
const spans = new InMemorySpanExporter();
const podcastId = "pod-pipeline";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const EDGE_SPAN = "00f067aa0ba902b7";

const podcast: Podcast = {
  podcastId,
  title: "Pipeline Test Show",
  author: "Test Author",
  description: "A show made by the processor tests.",
  language: "en",
  category: "Technology",
  explicit: false,
  loudness: { integratedLufs: -16, truePeakDbtp: -1 },
  uploadTokenSha256: "0".repeat(64),
  createdAt: "2026-11-01T00:00:00.000Z",
};

async function seedEpisode(
  episodeId: string,
  file: string | Buffer,
  contentType = "audio/mpeg",
  description?: string,
): Promise<EpisodeJob> {
  const sourceKey = keys.source(podcastId, episodeId);
  const body = typeof file === "string" ? readFileSync(file) : file;
  await bucket.client.send(new PutObjectCommand({ Bucket: LOCAL_S3.bucket, Key: sourceKey, Body: body, ContentType: contentType }));
  const now = new Date().toISOString();
  const episode: Episode = {
    episodeId,
    podcastId,
    title: `Episode ${episodeId}`,
    ...(description ? { description } : {}),
    filename: "episode.mp3",
    size: body.length,
    sourceKey,
    state: "queued",
    traceId: TRACE_ID,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    uploadedAt: now,
  };
  await bucket.putJson(keys.episode(episodeId), episode);
  return {
    version: 1,
    episodeId,
    podcastId,
    sourceKey,
    filename: "episode.mp3",
    size: body.length,
    title: episode.title,
    uploadedAt: now,
    trace: { traceparent: `00-${TRACE_ID}-${EDGE_SPAN}-01` },
  };
}

const SIGNING_SECRET = "pipeline-test-signing-secret-0123456789abcdef";

/** POSTs the job signed as the edge signs it; when a run started (202), waits for its end on the record. */
async function deliver(job: EpisodeJob): Promise<{ status: number; body: Record<string, string>; record?: Episode }> {
  const text = JSON.stringify(job);
  const res = await fetch(`${processor.url}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", [SIGNATURE_HEADER]: await signJob(SIGNING_SECRET, text) },
    body: text,
  });
  const body = (await res.json()) as Record<string, string>;
  if (res.status !== 202 || body.outcome !== "accepted") return { status: res.status, body };
  // The run reports through the episode record; it is over when the record left processing and the lease is gone.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const record = await episodeRecord(job.episodeId);
    const lease = await bucket.getJson(leaseKey(job.episodeId));
    if (record && record.state !== "processing" && !lease) return { status: res.status, body, record };
    if (Date.now() > deadline) throw new Error(`run of ${job.episodeId} did not end: ${JSON.stringify(record)}\n${stack.logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const episodeRecord = (id: string) => bucket.getJson<Episode>(keys.episode(id));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "processor-pipeline-"));
  ffmpeg(["-f", "lavfi", "-i", "testsrc=s=200x200:d=1", "-frames:v", "1", path.join(dir, "cover.jpg")]);
  artwork = await startArtworkServer(readFileSync(path.join(dir, "cover.jpg")));
  podcast.artworkUrl = artwork.url("/cover.jpg");
  stack = await startLocalStack({ dataDir: path.join(dir, "stack"), processor: false });
  const config = loadConfig(
    {
      PORT: "1", // replaced by 0 (any free port) below
      R2_S3_ENDPOINT: stack.s3Endpoint,
      R2_BUCKET: LOCAL_S3.bucket,
      R2_ACCESS_KEY_ID: LOCAL_S3.accessKeyId,
      R2_SECRET_ACCESS_KEY: LOCAL_S3.secretAccessKey,
      PUBLIC_BASE_URL: stack.edgeUrl,
      WORK_DIR: path.join(dir, "work"),
      JOB_SIGNING_SECRET: SIGNING_SECRET,
    },
    tmpdir(),
  );
  processor = await startProcessor({ ...config, port: 0 }, { spanProcessors: [new SimpleSpanProcessor(spans)] });
  bucket = new Bucket(config);
  await bucket.putJson(keys.podcast(podcastId), podcast);
});

afterAll(async () => {
  await processor?.stop();
  await artwork?.close();
  bucket?.destroy();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("POST /jobs", () => {
  let job: EpisodeJob;
  let published: Episode;

  it("publishes an episode: 5 renditions, waveform and chapters in R2, the record published", async () => {
    const source = mp3WithChapters(dir, speechWav(dir, "pipeline", -6));
    job = await seedEpisode("ep-one", source.path, "audio/mpeg", "Loudness, codecs and chapters.");
    const { status, body, record } = await deliver(job);
    expect({ status, body, state: record?.state }, stack.logs()).toEqual({
      status: 202,
      body: { outcome: "accepted", episodeId: "ep-one", attempt: 1 },
      state: "published",
    });

    published = (await episodeRecord("ep-one"))!;
    expect(published).toMatchObject({ state: "published", attempts: 1, podcastId });
    expect(published.stage).toBeUndefined();
    expect(published.renditions!.map((r) => r.id).sort()).toEqual(RENDITIONS.map((r) => r.id).sort());
    for (const r of published.renditions!) {
      const head = await bucket.client.send(new HeadObjectCommand({ Bucket: LOCAL_S3.bucket, Key: r.key }));
      expect(head.ContentLength, r.id).toBe(r.bytes);
      expect(head.ContentType, r.id).toBe(r.mimeType);
      expect(head.CacheControl).toMatch(/immutable/);
      expect(r.url).toBe(`${stack.edgeUrl}/media/${podcastId}/ep-one/${RENDITIONS.find((s) => s.id === r.id)!.file}`);
      expect(Math.abs(r.loudness!.integratedLufs + 16)).toBeLessThanOrEqual(1);
      expect(r.loudness!.truePeakDbtp).toBeLessThanOrEqual(-0.95);
      expect(Math.abs(r.durationSeconds - published.durationSeconds!)).toBeLessThan(0.2);
    }
    expect(published.chapters).toEqual({ url: `${stack.edgeUrl}/media/${podcastId}/ep-one/chapters.json`, count: 3 });
    const chapters = await bucket.getJson<{ version: string; chapters: unknown[] }>(keys.media(podcastId, "ep-one", "chapters.json"));
    expect(chapters?.chapters).toHaveLength(3);
    const wave = await bucket.getJson<{ version: number; length: number; data: number[] }>(
      keys.media(podcastId, "ep-one", "waveform.json"),
    );
    expect(wave?.version).toBe(2);
    expect(wave?.data).toHaveLength(2 * wave!.length);

    // What a podcast app downloads: ID3v2.4 tags, cover art and chapters in the MP3, the same in the M4A.
    for (const id of ["mp3_128k", "aac_64k"] as const) {
      const r = published.renditions!.find((x) => x.id === id)!;
      const local = path.join(dir, `published-${RENDITIONS.find((s) => s.id === id)!.file}`);
      await bucket.download(r.key, local);
      const m = await parseFile(local, { includeChapters: true });
      expect(m.common, id).toMatchObject({ title: "Episode ep-one", artist: "Test Author", album: "Pipeline Test Show" });
      expect(m.common.year, id).toBe(new Date().getUTCFullYear());
      expect(m.common.comment?.[0]?.text, id).toBe("Loudness, codecs and chapters.");
      expect(Buffer.from(m.common.picture?.[0]?.data ?? []).equals(readFileSync(path.join(dir, "cover.jpg"))), id).toBe(true);
      expect(
        m.format.chapters?.map((c) => c.title),
        id,
      ).toEqual(["Intro", "The guest", "Codecs; opinions = many"]);
    }

    const entry = await bucket.getJson<{ guid: string; renditions: unknown[] }>(keys.published(podcastId, "ep-one"));
    expect(entry?.renditions).toHaveLength(5);
    const feed = await bucket.client.send(new HeadObjectCommand({ Bucket: LOCAL_S3.bucket, Key: keys.feed(podcastId) }));
    expect(feed.ContentType).toMatch(/application\/rss\+xml/);
  });

  it("traces the job under the edge's span: stages are children of audio.pipeline.process", () => {
    const finished = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID);
    const root = finished.find((s) => s.name === SPANS.pipeline);
    expect(root, "pipeline span").toBeDefined();
    expect(root!.parentSpanContext?.spanId).toBe(EDGE_SPAN);
    for (const stage of STAGES) {
      const span = finished.find((s) => s.name === SPANS.stage(stage));
      expect(span, stage).toBeDefined();
      expect(span!.parentSpanContext?.spanId, stage).toBe(root!.spanContext().spanId);
    }
    const transcode = finished.find((s) => s.name === SPANS.stage("transcode"))!;
    expect(transcode.attributes[ATTR.formatCount]).toBe(RENDITIONS.length);
    for (const r of RENDITIONS) {
      const span = finished.find((s) => s.name === SPANS.rendition(r.id));
      expect(span?.parentSpanContext?.spanId, r.id).toBe(transcode.spanContext().spanId);
      expect(span?.attributes[`audio.loudness.${r.id}.measured_lufs`], r.id).toBeTypeOf("number");
      // The article's attributes (issue #11): on target, and whether a second full encode was needed.
      expect(span?.attributes[ATTR.renditionNormalized], r.id).toBe(true);
      expect(span?.attributes[ATTR.renditionCorrected], r.id).toBeTypeOf("boolean");
      expect(span?.attributes[ATTR.loudnessWarning], r.id).toBeUndefined();
    }
    const waveform = finished.find((s) => s.name === SPANS.stage("waveform"))!;
    expect(waveform.attributes[ATTR.waveformPath]).toBe(keys.media(podcastId, "ep-one", "waveform.json"));
    const distribute = finished.find((s) => s.name === SPANS.stage("distribute"))!;
    // 5 renditions, waveform JSON/.dat/SVG and chapters.json behind the CDN; the feed regenerated.
    expect(distribute.attributes[ATTR.cdnUrlCount]).toBe(RENDITIONS.length + 4);
    expect(distribute.attributes[ATTR.feedUpdated]).toBe(true);
    const normalize = finished.find((s) => s.name === SPANS.stage("normalize"))!;
    expect(normalize.attributes["audio.chain.channels"]).toBe(2);
    expect(normalize.attributes["audio.loudness.mastered_lufs"]).toBeTypeOf("number");
    // The secret key must not have leaked into any attribute.
    expect(JSON.stringify(finished.map((s) => s.attributes))).not.toContain(LOCAL_S3.secretAccessKey);
  });

  it("a duplicate delivery answers published and leaves one feed entry", async () => {
    const again = await deliver(job);
    expect(again).toEqual({ status: 200, body: { outcome: "published", episodeId: "ep-one" } });
    expect(await bucket.listKeys(keys.publishedPrefix(podcastId))).toEqual([keys.published(podcastId, "ep-one")]);
    expect((await episodeRecord("ep-one"))!.attempts).toBe(1);
  });

  it("reprocessing a published episode (redelivered before its record said so) is idempotent", async () => {
    await bucket.putJson(keys.episode("ep-one"), { ...published, state: "queued" });
    const { status, record: rerun } = await deliver(job);
    expect({ status, state: rerun?.state }).toEqual({ status: 202, state: "published" });
    expect(await bucket.listKeys(keys.publishedPrefix(podcastId))).toEqual([keys.published(podcastId, "ep-one")]);
    const record = (await episodeRecord("ep-one"))!;
    expect(record.publishedAt).toBe(published.publishedAt);
    expect(record.renditions!.map((r) => r.key)).toEqual(published.renditions!.map((r) => r.key));
    const media = await bucket.listKeys(keys.publicPrefix(podcastId, "ep-one"));
    expect(media.sort()).toEqual(
      [...RENDITIONS.map((r) => r.file), "chapters.json", "waveform.dat", "waveform.json", "waveform.svg"]
        .map((f) => keys.media(podcastId, "ep-one", f))
        .sort(),
    );
    const feed = await (await fetch(`${stack.edgeUrl}/feeds/${podcastId}.xml`)).text().catch(() => "");
    if (feed.includes("<rss")) expect(feed.split("<item>").length - 1).toBe(1);
  });

  it("marks bad input failed at validate, permanently, with the reason", async () => {
    const bad = await seedEpisode("ep-text", Buffer.from("this is a text file, not audio\n".repeat(100)));
    const { status, record } = await deliver(bad);
    expect(status).toBe(202);
    expect(record!.state).toBe("failed");
    expect(record!.failure).toEqual({ reason: expect.stringMatching(/not an audio file/), stage: "validate", permanent: true });
    // The raw upload is kept.
    await bucket.client.send(new HeadObjectCommand({ Bucket: LOCAL_S3.bucket, Key: bad.sourceKey }));
  });

  it("rejects each file of a bad-input corpus once, with its own reason (failed permanently, never retried)", async () => {
    const wav = path.join(dir, "ten-seconds.wav");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=10", "-ac", "2", wav]);
    const clip = path.join(dir, "half-second.wav");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=0.5", clip]);
    const video = path.join(dir, "video-only.mp4");
    ffmpeg(["-f", "lavfi", "-i", "testsrc=d=2:s=160x120", "-c:v", "mpeg4", video]);
    const corpus: [string, Buffer, RegExp][] = [
      ["bad-empty", Buffer.alloc(0), /empty \(0 bytes\)/],
      ["bad-text", Buffer.from("show notes, not audio\n".repeat(100)), /not an audio file/],
      ["bad-video", readFileSync(video), /no audio stream: the file contains only video/],
      ["bad-short", readFileSync(clip), /too short: 0\.50 s/],
      ["bad-truncated", readFileSync(wav).subarray(0, 800_001), /truncated file/],
    ];
    for (const [id, body, reason] of corpus) {
      const { status, record } = await deliver(await seedEpisode(id, body));
      expect({ id, status }).toEqual({ id, status: 202 });
      expect(record, id).toMatchObject({ state: "failed", attempts: 1, failure: { stage: "validate", permanent: true } });
      expect(record!.failure!.reason, id).toMatch(reason);
    }
  });

  it("a transient problem sends the episode back to queued with the reason, not failed", async () => {
    const job2 = await seedEpisode("ep-gone", Buffer.from("x"));
    // The source comes from the record, never from the job: point the record at a missing object.
    await bucket.putJson(keys.episode("ep-gone"), {
      ...(await episodeRecord("ep-gone"))!,
      sourceKey: keys.source(podcastId, "ep-missing-source"),
    });
    const { status, record } = await deliver(job2);
    expect(status).toBe(202);
    expect(record).toMatchObject({ state: "queued", attempts: 1, lastRetry: { attempt: 1, reason: expect.stringMatching(/^validate: /) } });
  });

  it("refuses a malformed job with 400, and an unsigned one with 401", async () => {
    const text = JSON.stringify({ version: 1 });
    expect((await fetch(`${processor.url}/jobs`, { method: "POST", body: text })).status).toBe(401);
    const res = await fetch(`${processor.url}/jobs`, {
      method: "POST",
      headers: { [SIGNATURE_HEADER]: await signJob(SIGNING_SECRET, text) },
      body: text,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid episode job: episodeId" });
    expect((await fetch(`${processor.url}/healthz`)).status).toBe(200);
  });
});

describe("chapters the creator supplied before processing", () => {
  it("are embedded in every rendition instead of the upload's, and the record says which revision they carry", async () => {
    // The upload has three chapters of its own; the creator's (PUT /episodes/:id/chapters while uploading) win.
    const source = mp3WithChapters(dir, toneWav(dir, 12));
    const job = await seedEpisode("ep-supplied", source.path);
    const supplied = await suppliedChapters([
      { startTime: 0, title: "Creator's intro" },
      { startTime: 6.5, title: "Creator's part two" },
    ]);
    await bucket.putJson(keys.suppliedChapters(podcastId, "ep-supplied"), supplied);
    const { record } = await deliver(job);
    expect(record, stack.logs()).toMatchObject({ state: "published", embeddedChapters: supplied.revision, chapters: { count: 2 } });
    expect(record!.mediaGeneration).toBeUndefined();
    for (const r of record!.renditions!) {
      const local = path.join(dir, `supplied-${r.id}`);
      await bucket.download(r.key, local);
      const probed = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-of", "json", "-show_chapters", local], { encoding: "utf8" })) as {
        chapters: { tags: { title: string } }[];
      };
      expect(
        probed.chapters.map((c) => c.tags.title),
        r.id,
      ).toEqual(["Creator's intro", "Creator's part two"]);
    }
    const json = await bucket.getJson<{ chapters: { title: string }[] }>(keys.media(podcastId, "ep-supplied", "chapters.json"));
    expect(json?.chapters.map((c) => c.title)).toEqual(["Creator's intro", "Creator's part two"]);
  });
});
