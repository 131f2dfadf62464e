import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { queued, rejected } from "../../shared/episode-lifecycle.ts";
import { edgeTelemetry } from "../telemetry/config.ts";
import { emit } from "../telemetry/emit.ts";
import { uploadAbandonedPoints, uploadCompletedPoints } from "../telemetry/metrics.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { startQueueSend, uploadRootSpan } from "./upload-trace.ts";
import { JOBS_QUEUE } from "../queue/names.ts";
import { jobFor } from "../queue/send-job.ts";
import { deleteEpisode, readEpisode, writeEpisode } from "./store.ts";
import { indexEpisode } from "./episode-index.ts";
import type { UploadCompleted, UploadStarted } from "./upload-events.ts";

/**
 * What happens to an episode when its upload starts, completes or is
 * abandoned. Called by the EpisodeUpload Durable Object. The transitions
 * themselves are shared/episode-lifecycle.ts.
 */

/** Telemetry never holds up or fails an upload: wait a bounded time, then move on. */
const TELEMETRY_WAIT_MS = 5_000;

async function settle(work: Promise<unknown>[]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, TELEMETRY_WAIT_MS)));
  await Promise.race([Promise.allSettled(work), timeout]);
  clearTimeout(timer);
}

function newEpisode(upload: UploadStarted, now: Date): Episode {
  return {
    episodeId: upload.episodeId,
    podcastId: upload.podcastId,
    title: upload.title,
    ...(upload.description ? { description: upload.description } : {}),
    ...(upload.details ? { details: upload.details } : {}),
    filename: upload.filename,
    ...(upload.size !== undefined ? { size: upload.size } : {}),
    sourceKey: upload.sourceKey,
    state: "uploading",
    traceId: upload.trace.traceId,
    attempts: 0,
    createdAt: upload.createdAt,
    updatedAt: now.toISOString(),
  };
}

export async function uploadStarted(env: Env, upload: UploadStarted): Promise<void> {
  const existing = await readEpisode(env.MEDIA, upload.episodeId);
  // A repeated call must not send an episode that moved on back to "uploading".
  if (existing && existing.state !== "uploading") return;
  await writeEpisode(env.MEDIA, newEpisode(upload, new Date()));
  // So the creator can find the episode again (GET /podcasts/:id/episodes).
  await indexEpisode(env.MEDIA, upload);
}

/**
 * Called exactly once per upload, after the source object is complete in R2.
 * Throws if the job could not be enqueued (the DO then lets a retried PATCH
 * try again); safe to call again after such a partial failure.
 */
export async function uploadCompleted(env: Env, upload: UploadCompleted): Promise<void> {
  const now = new Date();
  const existing = await readEpisode(env.MEDIA, upload.episodeId);
  // The job already reached the processor (a previous call sent it): nothing left to do.
  if (existing && (existing.state === "processing" || existing.state === "published")) return;

  const episode = queued(existing ?? newEpisode(upload, now), { size: upload.size, uploadedAt: upload.completedAt }, now);
  await writeEpisode(env.MEDIA, episode);

  const t = edgeTelemetry(env);
  const send = startQueueSend(t, upload, JOBS_QUEUE, now);
  const job = jobFor(episode, send.carrier);
  try {
    await env.JOBS.send(job, { contentType: "json" });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    await settle([emit(t, { spans: [send.span(new Date(), `queue send failed: ${reason}`)] })]);
    throw new Error(`could not enqueue episode ${upload.episodeId}: ${reason}`);
  }

  const end = new Date();
  const durationSeconds = Math.max(0, (Date.parse(upload.completedAt) - Date.parse(upload.createdAt)) / 1000);
  await settle([
    // The root ends once the job is handed off, so the send span lies inside it.
    emit(t, { spans: [uploadRootSpan(t, upload, end.toISOString()), send.span(end)], metrics: uploadCompletedPoints(durationSeconds, {}) }),
  ]);
}

export type AbandonReason = "terminated" | "expired" | "rejected";

/** The upload ended without a complete file: terminated by the client (DELETE), expired, or rejected (not audio). */
export async function uploadAbandoned(env: Env, upload: UploadStarted, reason: AbandonReason, message: string): Promise<void> {
  const now = new Date();
  if (reason === "terminated") {
    await deleteEpisode(env.MEDIA, upload.episodeId);
  } else {
    const existing = (await readEpisode(env.MEDIA, upload.episodeId)) ?? newEpisode(upload, now);
    await writeEpisode(env.MEDIA, rejected(existing, message, undefined, now));
  }
  // The root span still ends, in error, so the upload's request spans have their parent.
  const t = edgeTelemetry(env);
  await settle([
    emit(t, {
      spans: [uploadRootSpan(t, upload, now.toISOString(), `upload ${reason}: ${message}`)],
      metrics: uploadAbandonedPoints({ [ATTR.uploadOutcome]: reason }),
    }),
  ]);
}
