/**
 * One delivery of an EpisodeJob: the audio.pipeline.process span, the
 * episode record's lifecycle (processing -> published | failed), the job's
 * temporary folder, and the JobOutcome the edge acts on.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { SpanKind, SpanStatusCode, context, trace, type Context } from "@opentelemetry/api";
import { touch, type Episode } from "../shared/episode.ts";
import type { EpisodeJob, JobOutcome } from "../shared/job.ts";
import type { Podcast } from "../shared/podcast.ts";
import { keys } from "../shared/storage-keys.ts";
import { ATTR, SPANS } from "../shared/telemetry.ts";
import { InputRejected, describeError, transientClass } from "./errors.ts";
import { Slots } from "./media/slots.ts";
import type { MediaTools } from "./media/tools.ts";
import { StageFailed, TRACER_NAME, runPipeline, type PipelineMetrics } from "./pipeline.ts";
import type { ObjectStore } from "./storage/object-store.ts";

export interface JobDeps {
  bucket: ObjectStore;
  tools: MediaTools;
  metrics: PipelineMetrics;
  workDir: string;
  publicBaseUrl: string;
  maxDurationSeconds: number;
  /** FFMPEG_PROCESSES: ffmpeg processes run at once (default: one per CPU). */
  ffmpegProcesses?: number;
  /** Aborted when the processor must stop: the job ends as "retry". */
  signal: AbortSignal;
  /** After the job's span has ended: flush telemetry so its spans and metrics leave now. */
  afterJob?: () => Promise<void>;
}

export async function processJob(job: EpisodeJob, deps: JobDeps, parent: Context): Promise<JobOutcome> {
  const tracer = trace.getTracer(TRACER_NAME);
  const attributes = {
    [ATTR.episodeId]: job.episodeId,
    [ATTR.podcastId]: job.podcastId,
    [ATTR.fileName]: job.filename,
    [ATTR.fileSize]: job.size,
  };
  const span = tracer.startSpan(SPANS.pipeline, { kind: SpanKind.CONSUMER, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  const started = performance.now();
  deps.metrics.jobsInProgress.add(1);
  let outcome: JobOutcome;
  let failureClass: string | undefined;
  try {
    outcome = await context.with(ctx, () => run(job, deps, attributes, (a) => span.setAttributes(a)));
  } catch (err) {
    // Not from a stage (records, temp folder): transient by nature.
    outcome = { outcome: "retry", episodeId: job.episodeId, reason: describeError(err) };
    failureClass = transientClass(err);
  } finally {
    deps.metrics.jobsInProgress.add(-1);
  }
  if (outcome.outcome !== "published") {
    failureClass ??= (outcome as { failureClass?: string }).failureClass ?? "internal";
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
    span.setAttribute(ATTR.failureReason, outcome.reason);
    deps.metrics.jobsFailed.add(1, { [ATTR.outcome]: outcome.outcome, "audio.failure.class": failureClass });
  }
  span.setAttribute(ATTR.outcome, outcome.outcome);
  deps.metrics.jobsCompleted.add(1, { [ATTR.outcome]: outcome.outcome });
  deps.metrics.totalDuration.record((performance.now() - started) / 1000, { [ATTR.outcome]: outcome.outcome });
  span.end();
  if (deps.afterJob) {
    // Bounded: an unreachable collector must not hold the answer the edge is waiting for.
    await Promise.race([deps.afterJob(), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
  // The failure class is for metrics only; the edge gets the contract's shape.
  const { failureClass: _internal, ...answer } = outcome as JobOutcome & { failureClass?: string };
  return answer as JobOutcome;
}

type Outcome = JobOutcome & { failureClass?: string };

async function run(
  job: EpisodeJob,
  deps: JobDeps,
  attributes: Record<string, string | number>,
  annotate: (a: Record<string, string | number | boolean>) => void,
): Promise<Outcome> {
  const { bucket } = deps;
  const episodeKey = keys.episode(job.episodeId);
  const found = await bucket.getJson<Episode>(episodeKey);
  if (!found) {
    return reject(job, "episode_missing", `no episode record for ${job.episodeId}`);
  }
  if (found.state === "published") {
    // At-least-once delivery: the work is done and its outputs are in place.
    annotate({ "audio.pipeline.duplicate": true, [ATTR.attempt]: found.attempts });
    return { outcome: "published", episodeId: job.episodeId };
  }
  let episode = touch(found, { state: "processing", attempts: (found.attempts ?? 0) + 1, failure: undefined });
  annotate({ [ATTR.attempt]: episode.attempts });

  const podcast = await bucket.getJson<Podcast>(keys.podcast(job.podcastId));
  if (!podcast) {
    const reason = `podcast ${job.podcastId} does not exist`;
    await bucket.putJson(episodeKey, touch(episode, { state: "failed", failure: { reason, permanent: true } }));
    return reject(job, "podcast_missing", reason);
  }
  await bucket.putJson(episodeKey, episode);

  await mkdir(deps.workDir, { recursive: true });
  const jobDir = await mkdtemp(path.join(deps.workDir, `${job.episodeId}-`));
  try {
    const result = await runPipeline(
      {
        episode,
        podcast,
        sourceKey: job.sourceKey,
        bucket,
        publicBaseUrl: deps.publicBaseUrl,
        maxDurationSeconds: deps.maxDurationSeconds,
      },
      {
        tools: deps.tools,
        slots: new Slots(deps.ffmpegProcesses),
        jobDir,
        signal: deps.signal,
        metrics: deps.metrics,
        attributes,
        onStageStart: async (stage) => {
          episode = touch(episode, { stage });
          await bucket.putJson(episodeKey, episode);
        },
      },
    );
    annotate({ [ATTR.durationSeconds]: result.episode.durationSeconds ?? 0 });
    return { outcome: "published", episodeId: job.episodeId };
  } catch (err) {
    if (!(err instanceof StageFailed)) throw err;
    if (err.cause instanceof InputRejected) {
      const reason = err.cause.message;
      // Permanent: the creator sees why; the raw upload stays untouched for inspection.
      await bucket.putJson(episodeKey, touch(episode, { state: "failed", stage: err.stage, failure: { reason, stage: err.stage, permanent: true } }));
      return { ...reject(job, err.cause.code, reason) };
    }
    // Transient: the queue redelivers; after the last attempt the edge's dead-letter consumer marks it failed.
    return { outcome: "retry", episodeId: job.episodeId, reason: `${err.stage}: ${err.message}`, failureClass: transientClass(err.cause) };
  } finally {
    await rm(jobDir, { recursive: true, force: true });
  }
}

function reject(job: EpisodeJob, code: string, reason: string): Outcome {
  return { outcome: "rejected", episodeId: job.episodeId, reason, failureClass: code };
}
