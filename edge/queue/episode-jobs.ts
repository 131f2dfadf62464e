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
import { dispatchJob, type Handoff } from "../dispatch/processor.ts";
import { readEpisode, writeEpisode } from "../episodes/store.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import type { ManualSpan } from "../telemetry/fixed-span.ts";
import { dispatchOutcomeMetric, queueWaitMetric } from "../telemetry/metrics.ts";
import { retryBaseSeconds, retryDelaySeconds } from "./backoff.ts";
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

async function settle(env: Env, msg: Message<unknown>, job: EpisodeJob, handoff: Handoff, span: ManualSpan): Promise<void> {
  span.setAttribute(ATTR.outcome, handoff.outcome);
  switch (handoff.outcome) {
    case "accepted":
    case "running":
    case "published":
      msg.ack();
      return;
    case "rejected":
      span.setAttribute(ATTR.failureReason, handoff.reason);
      await recordRejection(env, job, handoff.reason);
      msg.ack();
      return;
    case "retry": {
      const delaySeconds = retryDelaySeconds(msg.attempts, retryBaseSeconds(env.DISPATCH_RETRY_BASE_SECONDS));
      span.setAttribute(ATTR.failureReason, handoff.reason);
      span.setAttribute("audio.dispatch.retry_delay_seconds", delaySeconds);
      span.fail(handoff.reason);
      await recordRetry(env, job, msg.attempts, handoff.reason).catch((err) =>
        console.error(`episode ${job.episodeId}: could not record the retry reason: ${err instanceof Error ? err.message : err}`),
      );
      msg.retry({ delaySeconds });
      return;
    }
  }
}

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
    let handoff: Handoff;
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
    try {
      // The processor's audio.pipeline.process becomes a child of this consumer span.
      handoff = await dispatchJob(env, job, span.traceparent);
    } catch (err) {
      handoff = { outcome: "retry", reason: err instanceof Error ? err.message : String(err) };
    }
    await settle(env, msg, job, handoff, span);
    ctx.waitUntil(dispatchOutcomeMetric(t, { "audio.dispatch.outcome": handoff.outcome }));
  });
}
