/**
 * One job: `startJob` checks it against the episode record and takes the
 * episode's lease (that is the answer to POST /jobs, given at once); the run
 * then goes on without the request and reports its end through the episode
 * record: published (distribute), failed (bad input, or runs used up) or
 * back to queued (transient: the edge's sweep re-sends it). Transitions come
 * from shared/episode-lifecycle.ts.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { SpanKind, type Attributes, type Context, type Span } from "@opentelemetry/api";
import type { Episode } from "../shared/episode.ts";
import {
  MAX_RUNS,
  failed,
  rejected,
  runFailed,
  runStarted,
  runsInBudget,
  stageStarted,
  uploadIsComplete,
} from "../shared/episode-lifecycle.ts";
import type { EpisodeJob, JobOutcome } from "../shared/job.ts";
import type { Podcast } from "../shared/podcast.ts";
import { keys } from "../shared/storage-keys.ts";
import { ATTR, SPANS, type StageName } from "../shared/telemetry.ts";
import { InputRejected, describeError, transientClass } from "./errors.ts";
import { Slots } from "./media/slots.ts";
import type { MediaTools } from "./media/tools.ts";
import { StageFailed, runPipeline, type PipelineMetrics } from "./pipeline.ts";
import { acquireLease, type HeldLease } from "./storage/lease.ts";
import type { ObjectStore } from "./storage/object-store.ts";
import { tracedStep } from "./traced-step.ts";

export interface JobDeps {
  bucket: ObjectStore;
  tools: MediaTools;
  metrics: PipelineMetrics;
  workDir: string;
  publicBaseUrl: string;
  maxDurationSeconds: number;
  /** FFMPEG_PROCESSES: ffmpeg processes run at once (default: one per CPU). */
  ffmpegProcesses?: number;
  /** METRICS_BY_PODCAST: metrics also carry audio.podcast.id (processor/config.ts). */
  metricsByPodcast?: boolean;
  /** JOB_LEASE_SECONDS: a run's lease lives this long past its last renewal (default 60). */
  leaseSeconds?: number;
  /** JOB_MAX_RUN_SECONDS: a run still going after this is stopped as a transient failure (default: the run deadline at MAX_DURATION_SECONDS). */
  maxRunSeconds?: number;
  /** Aborted when the processor must stop: the run ends as a transient failure. */
  signal: AbortSignal;
  /** After the job's span has ended: flush telemetry so its spans and metrics leave now. */
  afterJob?: () => Promise<void>;
}

/** The answer to POST /jobs, and the run to start when the job was accepted. */
export interface JobStart {
  outcome: JobOutcome;
  /** HTTP status: 202 accepted/running, 200 published, 404/409/422 refused, 503 retry. */
  status: number;
  run?: () => Promise<void>;
}

const refuse = (job: EpisodeJob, status: number, reason: string): JobStart => ({
  outcome: { outcome: "rejected", episodeId: job.episodeId, reason },
  status,
});

/**
 * The job as the edge signed it names an episode; everything else comes from
 * the episode record (its podcast, its source), so a job cannot point one
 * episode at another's audio or show. Refusals change nothing stored.
 */
export async function startJob(job: EpisodeJob, deps: JobDeps, parent: Context): Promise<JobStart> {
  const { bucket } = deps;
  const episodeKey = keys.episode(job.episodeId);
  const found = await bucket.getJson<Episode>(episodeKey);
  if (!found) return refuse(job, 404, `no episode ${job.episodeId}`);
  if (found.podcastId !== job.podcastId) return refuse(job, 409, `episode ${job.episodeId} does not belong to podcast ${job.podcastId}`);
  if (found.state === "published") return { outcome: { outcome: "published", episodeId: job.episodeId }, status: 200 };
  if (!uploadIsComplete(found)) return refuse(job, 409, `the upload of episode ${job.episodeId} is not complete`);
  if (found.state === "failed") return refuse(job, 409, `episode ${job.episodeId} has failed; an operator's re-run starts it again`);

  const held = await acquireLease(bucket, job.episodeId, deps.leaseSeconds ?? 60, deps.maxRunSeconds);
  if (!held) return { outcome: { outcome: "running", episodeId: job.episodeId }, status: 202 };
  try {
    // Read again under the lease: a run that just ended may have moved it on.
    const current = (await bucket.getJson<Episode>(episodeKey)) ?? found;
    if (current.state === "published" || current.state === "failed") {
      await held.release();
      return current.state === "published"
        ? { outcome: { outcome: "published", episodeId: job.episodeId }, status: 200 }
        : refuse(job, 409, `episode ${job.episodeId} has failed`);
    }
    if (runsInBudget(current) >= MAX_RUNS) {
      // Runs that died without an answer (kill -9) count too: the budget ends here.
      const last = current.lastRetry?.reason ?? "the runs stopped without finishing";
      await bucket.putJson(
        episodeKey,
        failed(current, { reason: `processing failed after ${runsInBudget(current)} runs: ${last}`, permanent: false }),
      );
      await held.release();
      return refuse(job, 409, `episode ${job.episodeId} used up its ${MAX_RUNS} runs`);
    }
    const podcast = await bucket.getJson<Podcast>(keys.podcast(current.podcastId));
    if (!podcast) {
      const reason = `podcast ${current.podcastId} does not exist`;
      await bucket.putJson(episodeKey, rejected(current, reason, undefined));
      await held.release();
      return refuse(job, 422, reason);
    }
    const episode = runStarted(current);
    await bucket.putJson(episodeKey, episode);
    return {
      outcome: { outcome: "accepted", episodeId: job.episodeId, attempt: episode.attempts },
      status: 202,
      run: () => runJob(job, episode, podcast, held, deps, parent),
    };
  } catch (err) {
    await held.release().catch(() => undefined);
    throw err;
  }
}

/** How a run ended, as the episode record and the job's span and metrics report it. */
interface RunEnd {
  outcome: "published" | "rejected" | "retry";
  reason?: string;
  stage?: StageName;
  failureClass?: string;
}

/** The run: audio.pipeline.process (through tracedStep) and its stages, the job folder, the record's end state, the lease released. */
async function runJob(job: EpisodeJob, started: Episode, podcast: Podcast, held: HeldLease, deps: JobDeps, parent: Context): Promise<void> {
  const attributes = {
    [ATTR.episodeId]: started.episodeId,
    [ATTR.podcastId]: started.podcastId,
    [ATTR.fileName]: started.filename,
    [ATTR.fileSize]: started.size ?? job.size,
  };
  const byPodcast = deps.metricsByPodcast ? { [ATTR.podcastId]: started.podcastId } : {};
  const end = await tracedStep<RunEnd>(
    SPANS.pipeline,
    {
      kind: SpanKind.CONSUMER,
      parent,
      attributes: { ...attributes, [ATTR.attempt]: started.attempts },
      okOutcome: "published",
      durationAttribute: ATTR.totalDurationSeconds,
      failureOf: (e) => (e.outcome === "published" ? undefined : { outcome: e.outcome, reason: e.reason! }),
      onEnd: (seconds, stepOutcome) => {
        const outcome = stepOutcome === "ok" ? "published" : stepOutcome;
        deps.metrics.jobsCompleted.add(1, { ...byPodcast, [ATTR.outcome]: outcome });
        deps.metrics.totalDuration.record(seconds, { ...byPodcast, [ATTR.outcome]: outcome });
      },
    },
    (span) => runInSpan(span, started, podcast, held, deps, attributes, byPodcast),
  );
  console.log(`job ${started.episodeId} run ${started.attempts}: ${end.outcome}${end.reason ? `: ${end.reason}` : ""}`);
  if (deps.afterJob) {
    // Bounded: an unreachable collector must not hold the next job.
    await Promise.race([deps.afterJob(), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}

/** Inside the job's span: the pipeline, then the record's end state and the clean-up; never throws. */
async function runInSpan(
  span: Span,
  started: Episode,
  podcast: Podcast,
  held: HeldLease,
  deps: JobDeps,
  attributes: Attributes,
  byPodcast: Attributes,
): Promise<RunEnd> {
  deps.metrics.jobsInProgress.add(1);
  const episodeKey = keys.episode(started.episodeId);
  let episode = started;
  let end: RunEnd;
  const signal = AbortSignal.any([deps.signal, held.lost, held.overdue]);
  let jobDir: string | undefined;
  try {
    await mkdir(deps.workDir, { recursive: true });
    jobDir = await mkdtemp(path.join(deps.workDir, `${started.episodeId}-`));
    const result = await runPipeline(
      {
        episode,
        podcast,
        sourceKey: started.sourceKey,
        bucket: deps.bucket,
        publicBaseUrl: deps.publicBaseUrl,
        maxDurationSeconds: deps.maxDurationSeconds,
      },
      {
        tools: deps.tools,
        slots: new Slots(deps.ffmpegProcesses),
        jobDir,
        signal,
        metrics: deps.metrics,
        metricAttributes: byPodcast,
        attributes,
        onStageStart: async (stage) => {
          if (held.lost.aborted) throw held.lost.reason;
          episode = stageStarted(episode, stage);
          await deps.bucket.putJson(episodeKey, episode);
        },
      },
    );
    span.setAttribute(ATTR.durationSeconds, result.episode.durationSeconds ?? 0);
    end = { outcome: "published" };
  } catch (err) {
    const stage = err instanceof StageFailed ? err.stage : undefined;
    // A stage stopped by a lost lease or the deadline reports a plain abort: name the real reason.
    const cause = held.lost.aborted
      ? held.lost.reason
      : held.overdue.aborted
        ? held.overdue.reason
        : err instanceof StageFailed
          ? err.cause
          : err;
    if (cause instanceof InputRejected) {
      end = { outcome: "rejected", reason: cause.message, ...(stage ? { stage } : {}), failureClass: cause.code };
    } else {
      end = {
        outcome: "retry",
        reason: `${stage ? `${stage}: ` : ""}${describeError(cause)}`,
        ...(stage ? { stage } : {}),
        failureClass: transientClass(cause),
      };
    }
  }
  try {
    // A run that lost its lease writes nothing more: the record belongs to the run that took it over.
    if (end.outcome !== "published" && !held.lost.aborted) {
      const next = end.outcome === "rejected" ? rejected(episode, end.reason!, end.stage) : runFailed(episode, end.reason!, end.stage);
      await deps.bucket.putJson(episodeKey, next);
    }
  } catch (err) {
    // The record stays "processing"; the lease expires and the sweep re-sends the job.
    console.error(`job ${started.episodeId}: could not record the run's end: ${describeError(err)}`);
  } finally {
    deps.metrics.jobsInProgress.add(-1);
    if (jobDir) await rm(jobDir, { recursive: true, force: true }).catch(() => undefined);
    await held.release().catch(() => undefined);
  }
  if (end.outcome !== "published") {
    deps.metrics.jobsFailed.add(1, {
      ...byPodcast,
      [ATTR.outcome]: end.outcome,
      "audio.failure.class": end.failureClass ?? "internal",
      ...(end.stage ? { [ATTR.stage]: end.stage } : {}),
    });
  }
  return end;
}

/** For callers that want the run's end in-process (the bench): start, run, and read the record. */
export async function processJob(job: EpisodeJob, deps: JobDeps, parent: Context): Promise<Episode["state"] | JobOutcome["outcome"]> {
  const start = await startJob(job, deps, parent);
  if (!start.run) return start.outcome.outcome;
  await start.run();
  return (await deps.bucket.getJson<Episode>(keys.episode(job.episodeId)))?.state ?? "rejected";
}
