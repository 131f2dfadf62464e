/**
 * Approach (c): the project's processor, run the way the service runs a job
 * (processor/job.ts processJob: episode record, per-job folder, the six traced
 * stages, distribute, feed), with the OpenTelemetry SDK started, but on a
 * local folder (processor/storage/folder.ts) instead of R2: no network time is
 * counted. Prints the job outcome, stage timings and every rendition's
 * measured loudness as one JSON line.
 * Usage: node bench/processor/processor-job.ts <source> <work-dir>
 */
import { copyFileSync, linkSync, mkdirSync } from "node:fs";
import path from "node:path";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { Episode } from "../../shared/episode.ts";
import { DEFAULT_LOUDNESS, type Podcast } from "../../shared/podcast.ts";
import { keys } from "../../shared/storage-keys.ts";
import { processJob } from "../../processor/job.ts";
import { pipelineMetrics } from "../../processor/pipeline.ts";
import { FolderStore } from "../../processor/storage/folder.ts";
import { startTelemetry } from "../../processor/telemetry.ts";

const [source, workDir] = process.argv.slice(2);
if (!source || !workDir) throw new Error("usage: processor-job.ts <source> <work-dir>");

const spans = new InMemorySpanExporter();
const telemetry = startTelemetry({
  serviceName: "podcast-processor-bench",
  metricExportIntervalMs: 60_000,
  spanProcessors: [new SimpleSpanProcessor(spans)],
});
const store = new FolderStore(path.join(workDir, "bucket"));
mkdirSync(path.join(workDir, "bucket"), { recursive: true });

const podcastId = "bench";
const episodeId = "bench-episode";
const now = new Date().toISOString();
const podcast: Podcast = {
  podcastId,
  title: "Bench Show",
  author: "Bench Author",
  description: "Speed and memory of the processor.",
  language: "en",
  category: "Technology",
  explicit: false,
  loudness: DEFAULT_LOUDNESS,
  uploadTokenSha256: "0".repeat(64),
  createdAt: now,
};
const sourceKey = keys.source(podcastId, episodeId);
const episode: Episode = {
  episodeId,
  podcastId,
  title: "Bench episode",
  description: "An hour of generated speech, for the bench.",
  filename: path.basename(source),
  sourceKey,
  state: "queued",
  traceId: "0".repeat(32),
  attempts: 0,
  createdAt: now,
  updatedAt: now,
  uploadedAt: now,
};
await store.putJson(keys.podcast(podcastId), podcast);
await store.putJson(keys.episode(episodeId), episode);
// The "upload": a hard link into the folder store (a copy only across file systems), so setting up costs nothing.
const stored = path.join(store.root, ...sourceKey.split("/"));
mkdirSync(path.dirname(stored), { recursive: true });
try {
  linkSync(source, stored);
} catch {
  copyFileSync(source, stored);
}

const outcome = await processJob(
  {
    version: 1,
    episodeId,
    podcastId,
    sourceKey,
    filename: episode.filename,
    size: 0,
    title: episode.title,
    uploadedAt: now,
    trace: { traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
  },
  {
    bucket: store,
    tools: { ffmpeg: "ffmpeg", ffprobe: "ffprobe" },
    metrics: pipelineMetrics(),
    workDir: path.join(workDir, "jobs"),
    publicBaseUrl: "http://localhost",
    maxDurationSeconds: 6 * 3600,
    signal: new AbortController().signal,
  },
  ROOT_CONTEXT,
);
const finished = spans.getFinishedSpans();
const stages = Object.fromEntries(
  finished
    .filter((s) => /^audio\.(validate|normalize|transcode|metadata|waveform|distribute)$/.test(s.name))
    .map((s) => [s.name.slice(6), Math.round((s.duration[0] + s.duration[1] / 1e9) * 100) / 100]),
);
const transcode = finished.find((s) => s.name === "audio.transcode");
const normalize = finished.find((s) => s.name === "audio.normalize");
const record = await store.getJson<Episode>(keys.episode(episodeId));
console.log(
  JSON.stringify({
    outcome,
    stages,
    gainDb: normalize?.attributes["audio.loudness.gain_db"],
    inputLufs: normalize?.attributes["audio.loudness.input_lufs"],
    inputTruePeak: normalize?.attributes["audio.loudness.input_true_peak_dbtp"],
    corrected: transcode?.attributes["audio.transcode.corrected_renditions"] ?? [],
    trimmed: transcode?.attributes["audio.transcode.trimmed_renditions"] ?? [],
    renditions: record?.renditions?.map((r) => ({ id: r.id, bytes: r.bytes, duration: r.durationSeconds, ...r.loudness })),
  }),
);
await telemetry.shutdown();
