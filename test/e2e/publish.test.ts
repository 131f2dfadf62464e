// One episode through the whole local stack, as a creator, a podcast app and
// an operator meet it: tus-js-client upload to the edge (workerd under
// wrangler dev) -> queue -> processor (Node, real ffmpeg) -> R2 -> feed read by
// podcast-partytime -> media with Range -> the OTLP both services really
// exported, received here and decoded. Only Honeycomb is replaced (by the
// in-test OTLP receiver).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseFeed } from "podcast-partytime";
import { generateSpeech } from "../../local/sample-audio.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { uploadFile, waitForOutcome } from "../support/episode-flow.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../../local/otlp-receiver.ts";
import { ATTR, SPANS, STAGES, METRICS, SERVICE_NAMES } from "../../shared/telemetry.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import type { Episode } from "../../shared/episode.ts";

const run = promisify(execFile);

let receiver: OtlpReceiver;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let podcast: CreatedPodcast;
let workDir: string;
let wavPath: string;
let episode: Episode;

/** Long enough for every stage to do real work; short, because the point is the trace, not the audio. */
const SPEECH_SECONDS = 8;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "e2e-"));
  wavPath = path.join(workDir, "episode.wav");
  receiver = await startOtlpReceiver();
  [stack] = await Promise.all([
    startTestStack({
      processor: true,
      otlpEndpoint: receiver.endpoint,
      // METRICS_BY_PODCAST: the article's per-podcast breakdown of the histograms, checked below.
      processorEnv: { OTEL_METRIC_EXPORT_INTERVAL: "1000", METRICS_BY_PODCAST: "true" },
    }),
    generateSpeech(wavPath, { seconds: SPEECH_SECONDS, gainDb: -14 }),
  ]);
  podcast = await createPodcast(stack, { title: "End to End Radio" });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await receiver?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("an episode from upload to published feed", () => {
  it("uploads with tus-js-client and is published by the processor", async () => {
    const { episodeId, episodeIdHeader } = await uploadFile(stack.edgeUrl, podcast.uploadToken, wavPath, {
      title: "Pilot: from microphone to feed",
      filename: "pilot.wav",
    });
    expect(episodeIdHeader).toBe(episodeId);

    const outcome = await waitForOutcome(stack.edgeUrl, podcast.uploadToken, episodeId, 150_000, () => stack.logs());
    episode = outcome.episode;
    expect(episode.failure, JSON.stringify(episode.failure)).toBeUndefined();
    expect(episode.state).toBe("published");
    expect(episode.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(episode.renditions?.map((r) => r.id).sort()).toEqual(RENDITIONS.map((r) => r.id).sort());
    expect(outcome.statesSeen.at(-1)).toBe("published");
  });

  it("lists it in the feed, read by podcast-partytime, with an enclosure that serves the bytes and ranges", async () => {
    const xml = await (await fetch(podcast.feedUrl)).text();
    const feed = parseFeed(xml);
    expect(feed, xml.slice(0, 500)).not.toBeNull();
    expect(feed!.title).toBe("End to End Radio");
    const item = feed!.items.find((i) => i.title === "Pilot: from microphone to feed");
    expect(item, xml).toBeDefined();
    const enclosure = item!.enclosure;
    expect(enclosure.type).toBe("audio/mpeg");

    const full = await fetch(enclosure.url);
    expect(full.status).toBe(200);
    expect(full.headers.get("content-type")).toBe("audio/mpeg");
    const bytes = new Uint8Array(await full.arrayBuffer());
    expect(bytes.length).toBe(enclosure.length);
    expect(bytes.length).toBeGreaterThan(((SPEECH_SECONDS * 128_000) / 8) * 0.9);

    const ranged = await fetch(enclosure.url, { headers: { Range: "bytes=1000-4999" } });
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(bytes.slice(1000, 5000));

    // The bytes a podcast app plays are loudness-normalised: measured here by ffmpeg, not taken from the pipeline's word.
    const mp3 = path.join(workDir, "enclosure.mp3");
    await writeFile(mp3, bytes);
    const { stderr } = await run("ffmpeg", ["-nostats", "-i", mp3, "-af", "ebur128=peak=true", "-f", "null", "-"]);
    const lufs = Number(/I:\s+(-?[\d.]+) LUFS/.exec(stderr.slice(stderr.lastIndexOf("Summary:")))![1]);
    const peak = Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(stderr.slice(stderr.lastIndexOf("Summary:")))![1]);
    expect(Math.abs(lufs - -16)).toBeLessThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(-1);
  });

  it("forms ONE trace across both services: audio.upload -> ... -> audio.pipeline.process -> six stages", async () => {
    const traceId = episode.traceId;
    const inTrace = (s: ReceivedSpan) => s.traceId === traceId;
    await receiver.waitFor(() => {
      const names = new Set(
        receiver
          .spans()
          .filter(inTrace)
          .map((s) => s.name),
      );
      return names.has(SPANS.upload) && names.has(SPANS.stage("distribute")) && names.has(SPANS.pipeline);
    }, 30_000);
    const spans = receiver.spans().filter(inTrace);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const one = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      expect(
        found.map((s) => s.name),
        `exactly one ${name}`,
      ).toEqual([name]);
      return found[0]!;
    };

    const upload = one(SPANS.upload);
    expect(upload.parentSpanId).toBeFalsy();
    expect(upload.serviceName).toBe(SERVICE_NAMES.edge);
    expect(upload.attributes["audio.episode.id"]).toBe(episode.episodeId);
    expect(upload.attributes["audio.podcast.id"]).toBe(podcast.podcastId);

    // Every parent id resolves to a span of this trace: nothing dangles.
    for (const s of spans) {
      if (s.parentSpanId) expect(byId.has(s.parentSpanId), `parent of ${s.name} (${s.serviceName})`).toBe(true);
    }

    const pipeline = one(SPANS.pipeline);
    expect(pipeline.serviceName).toBe(SERVICE_NAMES.processor);
    const ancestors: string[] = [];
    for (
      let p = pipeline.parentSpanId ? byId.get(pipeline.parentSpanId) : undefined;
      p;
      p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined
    ) {
      ancestors.push(p.name);
    }
    expect(ancestors).toContain(SPANS.upload);
    expect(ancestors.at(-1)).toBe(SPANS.upload);

    for (const stage of STAGES) expect(one(SPANS.stage(stage)).parentSpanId, stage).toBe(pipeline.spanId);
    const transcode = one(SPANS.stage("transcode"));
    for (const r of RENDITIONS) expect(one(SPANS.rendition(r.id)).parentSpanId, r.id).toBe(transcode.spanId);
  });

  it("exports the upload and pipeline metrics", async () => {
    await receiver.waitFor(() => {
      const names = new Set(receiver.metrics().map((m) => m.name));
      return names.has(METRICS.uploadDuration) && names.has(METRICS.stageDuration) && names.has(METRICS.totalDuration);
    }, 30_000);
    const stageMetric = receiver.metrics().filter((m) => m.name === METRICS.stageDuration);
    const stagesMeasured = new Set(stageMetric.flatMap((m) => m.points.map((p) => p.attributes["audio.pipeline.stage"])));
    for (const stage of STAGES) expect(stagesMeasured.has(stage), stage).toBe(true);
    // Broken down by podcast (METRICS_BY_PODCAST=true): every stage and pipeline point names this show.
    const pipelinePoints = receiver
      .metrics()
      .filter((m) => m.name === METRICS.totalDuration)
      .flatMap((m) => m.points);
    for (const p of [...stageMetric.flatMap((m) => m.points), ...pipelinePoints])
      expect(p.attributes[ATTR.podcastId]).toBe(podcast.podcastId);
    expect(pipelinePoints.length).toBeGreaterThan(0);
  });
});
