/**
 * The pipeline: six stages in order, each run by `runStage`: its span (a
 * child of audio.pipeline.process) and error recording from `tracedStep`
 * (processor/traced-step.ts, the one wrapper every span goes through), its
 * duration metric and the episode record's `stage`.
 */
import { metrics, type Attributes } from "@opentelemetry/api";
import type { Chapter } from "../shared/episode.ts";
import type { Episode } from "../shared/episode.ts";
import type { Podcast } from "../shared/podcast.ts";
import { ATTR, METRICS, SPANS, type StageName } from "../shared/telemetry.ts";
import { describeError } from "./errors.ts";
import type { Slots } from "./media/slots.ts";
import type { MediaTools } from "./media/tools.ts";
import type { ObjectStore } from "./storage/object-store.ts";
import type { StageContext } from "./stages/context.ts";
import { distribute, type DistributeOutput } from "./stages/distribute.ts";
import { metadata } from "./stages/metadata.ts";
import { normalize } from "./stages/normalize.ts";
import { transcode } from "./stages/transcode.ts";
import { validate } from "./stages/validate.ts";
import { WAVEFORM_FILES, waveform } from "./stages/waveform.ts";
import { keys } from "../shared/storage-keys.ts";
import type { SuppliedChapters } from "../shared/supplied-chapters.ts";
import { TRACER_NAME, tracedStep } from "./traced-step.ts";

export { TRACER_NAME } from "./traced-step.ts";

const SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/** Created after the SDK has started (the metrics API has no late-binding proxy). */
export function pipelineMetrics() {
  const meter = metrics.getMeter(TRACER_NAME);
  return {
    stageDuration: meter.createHistogram(METRICS.stageDuration, {
      unit: "s",
      description: "Wall time of one pipeline stage",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    totalDuration: meter.createHistogram(METRICS.totalDuration, {
      unit: "s",
      description: "Wall time of a whole job, download to feed",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    jobsInProgress: meter.createUpDownCounter(METRICS.jobsInProgress, { description: "Jobs running now" }),
    jobsCompleted: meter.createCounter(METRICS.jobsCompleted, { description: "Jobs finished, by outcome" }),
    jobsFailed: meter.createCounter(METRICS.jobsFailed, { description: "Jobs rejected or answered retry, by reason class" }),
  };
}
export type PipelineMetrics = ReturnType<typeof pipelineMetrics>;

/** Where a stage failed: the job runner reports it on the episode record. */
export class StageFailed extends Error {
  readonly stage: StageName;
  override readonly cause: unknown;
  constructor(stage: StageName, cause: unknown) {
    super(describeError(cause));
    this.name = "StageFailed";
    this.stage = stage;
    this.cause = cause;
  }
}

export interface RunContext {
  tools: MediaTools;
  jobDir: string;
  signal: AbortSignal;
  /** The job's ffmpeg slots (processor/media/slots.ts). */
  slots?: Slots;
  metrics: PipelineMetrics;
  /** Common attributes of every stage span (episode, podcast). */
  attributes: Attributes;
  /** Common attributes of every metric point (the podcast, when METRICS_BY_PODCAST is on). */
  metricAttributes?: Attributes;
  /** Called as each stage starts: the episode record shows it to operators. */
  onStageStart(stage: StageName): Promise<void>;
}

export async function runStage<I, O>(
  stage: StageName,
  input: I,
  fn: (input: I, ctx: StageContext) => Promise<O>,
  run: RunContext,
): Promise<O> {
  try {
    return await tracedStep(
      SPANS.stage(stage),
      {
        attributes: { ...run.attributes, [ATTR.stage]: stage },
        onEnd: (seconds, outcome) =>
          run.metrics.stageDuration.record(seconds, { ...run.metricAttributes, [ATTR.stage]: stage, [ATTR.outcome]: outcome }),
      },
      async (span) => {
        await run.onStageStart(stage);
        return fn(input, { tools: run.tools, jobDir: run.jobDir, signal: run.signal, span, slots: run.slots });
      },
    );
  } catch (err) {
    throw new StageFailed(stage, err);
  }
}

export interface PipelineInput {
  episode: Episode;
  podcast: Podcast;
  sourceKey: string;
  bucket: ObjectStore;
  publicBaseUrl: string;
  maxDurationSeconds: number;
}

/** validate -> normalize -> transcode -> metadata -> waveform -> distribute. */
export async function runPipeline(input: PipelineInput, run: RunContext): Promise<DistributeOutput> {
  const { episode, podcast, bucket } = input;
  const sourcePath = `${run.jobDir}/source`;

  const source = await runStage(
    "validate",
    { sourcePath, maxDurationSeconds: input.maxDurationSeconds },
    async (i, ctx) => {
      // The download belongs to validate's time: it is what a creator's file costs before anything else.
      ctx.span.setAttribute(ATTR.storagePath, input.sourceKey);
      await bucket.download(input.sourceKey, sourcePath, ctx.signal);
      return validate(i, ctx);
    },
    run,
  );
  const plan = await runStage("normalize", { source, target: podcast.loudness }, normalize, run);
  // Chapters the creator supplied after the upload win over the file's own, read just before they are embedded.
  const supplied = await bucket.getJson<SuppliedChapters>(keys.suppliedChapters(episode.podcastId, episode.episodeId));
  const chapters: Chapter[] = supplied ? supplied.chapters : source.chapters;
  const encoded = await runStage(
    "transcode",
    {
      source,
      plan,
      chapters,
      tags: {
        title: episode.title,
        artist: podcast.author,
        album: podcast.title,
        date: (episode.uploadedAt ?? episode.createdAt).slice(0, 10),
        ...(episode.description ? { comment: episode.description } : {}),
      },
      ...(podcast.artworkUrl ? { artworkUrl: podcast.artworkUrl } : {}),
    },
    transcode,
    run,
  );
  const described = await runStage(
    "metadata",
    { renditions: encoded.renditions, chapters, ...(episode.description ? { comment: episode.description } : {}) },
    metadata,
    run,
  );
  const peaks = await runStage(
    "waveform",
    { tap: encoded.waveformTap, key: keys.media(episode.podcastId, episode.episodeId, WAVEFORM_FILES.json) },
    waveform,
    run,
  );
  return runStage(
    "distribute",
    {
      bucket,
      publicBaseUrl: input.publicBaseUrl,
      podcast,
      episode,
      renditions: described.renditions,
      waveform: peaks,
      chaptersJson: described.chaptersJson,
      ...(supplied ? { embeddedChapters: supplied.revision } : {}),
    },
    distribute,
    run,
  );
}
