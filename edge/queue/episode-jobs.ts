/**
 * One delivery of an episode job: hand it to the processor and settle the
 * message. The processor answers once a run has started (accepted), or that
 * one is running, or that the episode is already published: ack in each case;
 * the run reports its end through the episode record. Rejected (the job can
 * never be taken as sent) -> ack, episode failed. Transient (processor down,
 * 5xx, timeout) -> retry with exponential backoff, the reason kept on the
 * record; after max_retries the queue moves it to the DLQ.
 */
import type { Env } from "../env.ts";
import { parseEpisodeJob, type EpisodeJob } from "../../shared/job.ts";
import { handoffFailed, isSettled, rejected } from "../../shared/episode-lifecycle.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { dispatchJob } from "../dispatch/processor.ts";
import { readEpisode, writeEpisode } from "../episodes/store.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import { dispatchOutcomeMetric, queueWaitMetric } from "../telemetry/metrics.ts";
import { settleHandoff, type HandoffRecord } from "./settle-handoff.ts";
import { withConsumerSpan } from "./consumer-span.ts";

async function recordRetry(env: Env, job: EpisodeJob, delivery: number, reason: string): Promise<void> {
  const episode = await readEpisode(env.MEDIA, job.episodeId);
  if (episode) await writeEpisode(env.MEDIA, handoffFailed(episode, delivery, reason));
}

/** The processor refused the job for good; the record says why unless it already ended. */
async function recordRejection(env: Env, job: EpisodeJob, reason: string): Promise<void> {
  const episode = await readEpisode(env.MEDIA, job.episodeId);
  if (episode && !isSettled(episode)) await writeEpisode(env.MEDIA, rejected(episode, reason, undefined));
}

/** The episode record's side of the hand-off: a refusal fails it (unless it already ended); a retry keeps the reason. */
const episodeRecord = (env: Env, job: EpisodeJob): HandoffRecord => ({
  rejected: (reason) => recordRejection(env, job, reason),
  retrying: (delivery, reason) => recordRetry(env, job, delivery, reason),
});

export async function handleEpisodeJob(
  env: Env,
  ctx: ExecutionContext,
  t: EdgeTelemetry,
  queue: string,
  msg: Message<unknown>,
): Promise<void> {
  let job: EpisodeJob;
  try {
    job = parseEpisodeJob(msg.body);
  } catch (err) {
    // No retry can fix a malformed message.
    console.error(`dropping message ${msg.id} on ${queue}: ${err instanceof Error ? err.message : err}`);
    msg.ack();
    return;
  }
  const waitSeconds = Math.max(0, (Date.now() - msg.timestamp.getTime()) / 1000);
  ctx.waitUntil(queueWaitMetric(t, waitSeconds, { "messaging.destination.name": queue, [ATTR.attempt]: msg.attempts }));
  const attrs = { [ATTR.episodeId]: job.episodeId, [ATTR.podcastId]: job.podcastId, "audio.queue.wait_seconds": waitSeconds };
  await withConsumerSpan(t, ctx, queue, msg, job.trace, attrs, async (span) => {
    const episode = await readEpisode(env.MEDIA, job.episodeId).catch(() => undefined);
    if (episode === null) {
      // Terminated uploads delete their record; nothing to process.
      span.setAttribute(ATTR.outcome, "no_episode");
      msg.ack();
      return;
    }
    if (episode && isSettled(episode)) {
      // A duplicate delivery (at-least-once) of a job already done, or of a failed episode (only a re-run restarts it).
      span.setAttribute(ATTR.outcome, episode.state === "published" ? "duplicate" : "already_failed");
      msg.ack();
      return;
    }
    // The processor's audio.pipeline.process becomes a child of this consumer span.
    const handoff = await dispatchJob(env, job, span.traceparent);
    await settleHandoff(env, msg, handoff, span, episodeRecord(env, job), `episode ${job.episodeId}`);
    ctx.waitUntil(dispatchOutcomeMetric(t, { "audio.dispatch.outcome": handoff.outcome }));
  });
}
