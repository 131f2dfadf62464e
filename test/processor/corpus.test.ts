/**
 * The corpus: fourteen realistic uploads (test/processor/corpus-audio.ts,
 * generated here with espeak-ng and ffmpeg) through the real pipeline
 * (validate -> normalize -> transcode -> metadata -> waveform -> distribute)
 * into a folder-backed store. Each must publish, every rendition within
 * +-1 LU of -16 LUFS with true peak <= -1 dBTP by the test's own ebur128
 * measurement, at its delivery rate and the source's duration, and the spans
 * must say what the chain did. Spans are captured with the SDK's in-memory
 * exporter; nothing is mocked.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { parseFile } from "music-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Episode } from "../../shared/episode.ts";
import type { Podcast } from "../../shared/podcast.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { keys } from "../../shared/storage-keys.ts";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import { Slots } from "../../processor/media/slots.ts";
import { pipelineMetrics, runPipeline } from "../../processor/pipeline.ts";
import { FolderStore } from "../../processor/storage/folder.ts";
import { generateCorpus, type CorpusInput } from "./corpus-audio.ts";
import { measure, probeStream } from "./generated-audio.ts";

const TARGET = { integratedLufs: -16, truePeakDbtp: -1 };
/** Duration tolerance per codec: 50 ms plus the codec's padding (as in stages.test.ts). */
const DURATION_TOLERANCE_S = { mp3: 0.05 + 2257 / 44100, aac: 0.05 + 2048 / 44100, opus: 0.05 + 0.02 } as const;

let dir: string;
let corpus: CorpusInput[];
let store: FolderStore;
const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
const podcast: Podcast = {
  podcastId: "pod-corpus",
  title: "Corpus Show",
  author: "Test Author",
  description: "Realistic uploads.",
  language: "en",
  category: "Technology",
  explicit: false,
  loudness: TARGET,
  uploadTokenSha256: "0".repeat(64),
  createdAt: "2026-11-01T00:00:00.000Z",
};
/** What each input cost, printed at the end (the bench's corpus row reads the same figures). */
const summary: { name: string; seconds: number; secondEncodes: number; renditions: string }[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "processor-corpus-"));
  mkdirSync(path.join(dir, "in"));
  corpus = generateCorpus(path.join(dir, "in"));
  store = new FolderStore(path.join(dir, "store"));
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
}, 300_000);

afterAll(() => {
  console.table(summary);
  trace.disable();
  context.disable();
  rmSync(dir, { recursive: true, force: true });
});

async function publish(input: CorpusInput): Promise<{ episode: Episode; spans: ReadableSpan[] }> {
  const episodeId = `ep-${input.name}`;
  const sourceKey = keys.source(podcast.podcastId, episodeId);
  mkdirSync(path.dirname(path.join(store.root, sourceKey)), { recursive: true });
  copyFileSync(input.file, path.join(store.root, sourceKey));
  const now = new Date().toISOString();
  const episode: Episode = {
    episodeId, podcastId: podcast.podcastId, title: input.description, filename: path.basename(input.file), sourceKey,
    state: "processing", traceId: "0".repeat(32), attempts: 1, createdAt: now, updatedAt: now, uploadedAt: now,
  };
  await store.putJson(keys.podcast(podcast.podcastId), podcast);
  const jobDir = mkdtempSync(path.join(dir, `${input.name}-`));
  exporter.reset();
  const result = await runPipeline(
    { episode, podcast, sourceKey, bucket: store, publicBaseUrl: "https://cdn.example.com", maxDurationSeconds: 6 * 3600 },
    {
      tools: { ffmpeg: "ffmpeg", ffprobe: "ffprobe" },
      jobDir,
      signal: new AbortController().signal,
      slots: new Slots(2),
      metrics: pipelineMetrics(),
      attributes: { [ATTR.episodeId]: episodeId },
      onStageStart: async () => {},
    },
  );
  return { episode: result.episode, spans: exporter.getFinishedSpans() };
}

const attrs = (spans: ReadableSpan[], name: string) => {
  const s = spans.find((x) => x.name === name);
  expect(s, name).toBeDefined();
  return s!.attributes;
};

describe("corpus: every realistic upload publishes on target", () => {
  // One test per input, named after it, so a failure names the kind of recording.
  const names = [
    "quiet-mono-plosives", "interview-quiet-guest", "loud-music-bed", "phone-band-mp3", "claps-laughter", "one-dead-channel",
    "hi-res-dc-hum", "streaming-wav", "eight-channel", "long-silences", "clipped", "big-cover", "mulaw-call", "adpcm-recorder",
  ];
  it("has at least 12 inputs of different kinds, levels spread over -40..-8 LUFS", () => {
    expect(corpus.map((c) => c.name)).toEqual(names);
    const levels = corpus.map((c) => measure(c.file).integratedLufs);
    expect(Math.min(...levels)).toBeLessThanOrEqual(-38);
    expect(Math.max(...levels)).toBeGreaterThanOrEqual(-10);
  });

  for (const name of names) {
    it(name, async () => {
      const input = corpus.find((c) => c.name === name)!;
      const started = performance.now();
      const { episode, spans } = await publish(input);
      expect(episode.state).toBe("published");
      expect(episode.warnings, JSON.stringify(episode.warnings)).toBeUndefined();

      const validate = attrs(spans, SPANS.stage("validate"));
      const normalize = attrs(spans, SPANS.stage("normalize"));
      const transcode = attrs(spans, SPANS.stage("transcode"));
      const sourceSeconds = validate[ATTR.durationSeconds] as number;
      if (input.expect.sourceSampleRate) expect(validate[ATTR.sampleRate]).toBe(input.expect.sourceSampleRate);
      expect(transcode[ATTR.formatCount]).toBe(RENDITIONS.length);

      // What the chain did, on the normalize span.
      expect(normalize["audio.chain.channels"], "channels").toBe(input.expect.channelsOut);
      expect(normalize["audio.chain.dead_channel"] !== "none", "dead channel").toBe(input.expect.deadChannel === true);
      expect(normalize["audio.chain.dc_removed"], "dc").toBe(input.expect.dcRemoved === true || normalize["audio.chain.dc_removed"] === true);
      if (input.expect.dcRemoved) expect(normalize["audio.chain.dc_offset"] as number).toBeGreaterThan(0.05);
      expect((normalize["audio.chain.rumble_highpass_hz"] as number) > 0, "rumble high-pass").toBe(input.expect.rumble === true);
      if (input.expect.compressed) expect(normalize["audio.chain.compressed"], "compressed").toBe(true);
      if (input.expect.levelled) expect(normalize["audio.chain.levelled"], "levelled").toBe(true);
      if (input.expect.turnedDown) {
        expect(normalize["audio.chain.turned_down"], "turned down only").toBe(true);
        expect(normalize["audio.chain.compressed"]).toBe(false);
      }
      if (input.expect.sourceSampleRate && input.expect.sourceSampleRate !== 44100) expect(normalize["audio.chain.sample_rate"]).toBe(48000);
      if (name === "eight-channel") expect(normalize["audio.chain.downmix_from"]).toBe(8);
      if (name === "clipped") expect(normalize["audio.chain.clipped_input"]).toBe(true);
      if (name === "streaming-wav") expect(validate["audio.input.streaming_wav"]).toBe(true);

      let secondEncodes = 0;
      const figures: string[] = [];
      for (const r of episode.renditions!) {
        const file = path.join(store.root, r.key);
        const m = measure(file);
        figures.push(`${r.id} ${m.integratedLufs}/${m.truePeakDbtp}`);
        expect(Math.abs(m.integratedLufs - TARGET.integratedLufs), `${r.id} ${m.integratedLufs} LUFS`).toBeLessThanOrEqual(1);
        expect(m.truePeakDbtp, `${r.id} true peak`).toBeLessThanOrEqual(TARGET.truePeakDbtp + 0.05);
        const spec = RENDITIONS.find((s) => s.id === r.id)!;
        const p = probeStream(file);
        expect(p.sampleRate, `${r.id} rate`).toBe(spec.sampleRate);
        expect(p.channels, `${r.id} channels`).toBe(input.expect.channelsOut);
        expect(Math.abs(r.durationSeconds - sourceSeconds), `${r.id} duration`).toBeLessThanOrEqual(DURATION_TOLERANCE_S[spec.codec]);
        const span = attrs(spans, SPANS.rendition(r.id));
        expect(span[ATTR.renditionNormalized], r.id).toBe(true);
        expect(typeof span[ATTR.renditionCorrected], r.id).toBe("boolean");
        if (span[ATTR.renditionCorrected]) secondEncodes++;
        expect(r.chain?.corrected).toBe(span[ATTR.renditionCorrected]);
      }
      if (input.expect.coverScaled) {
        expect(transcode["audio.artwork.scaled"]).toBe(true);
        const mp3 = episode.renditions!.find((r) => r.id === "mp3_64k")!;
        const pic = (await parseFile(path.join(store.root, mp3.key))).common.picture?.[0];
        // The upload's ~12 MB 3500 px picture of noise (the worst case for JPEG): 1400 px, about a tenth of the bytes.
        expect(pic?.format).toBe("image/jpeg");
        expect(pic!.data.length).toBeGreaterThan(10_000);
        expect(pic!.data.length).toBeLessThan(1.5 * 1024 * 1024);
        const dims = execFileSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", path.join(store.root, mp3.key)], { encoding: "utf8" });
        expect(dims.trim()).toBe("1400,1400");
        expect(mp3.bytes).toBeLessThan(2 * 1024 * 1024);
      }
      summary.push({ name, seconds: Math.round((performance.now() - started) / 100) / 10, secondEncodes, renditions: figures.join(", ") });
    }, 300_000);
  }
});
