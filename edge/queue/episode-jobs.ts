/**
 * One delivery of an episode job: hand it to the processor and settle the
 * message. published -> ack; rejected (bad input) -> ack, episode failed;
 * transient -> retry with exponential backoff, the reason kept on the
 * episode record; after max_retries the queue moves it to the DLQ.
 */
import type { Env } from "../env.ts";
import { parseEpisodeJob, type EpisodeJob } from "../../shared/job.ts";
import { touch } from "../../shared/episode.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { dispatchJob, type Handoff } from "../dispatch/processor.ts";
import { readEpisode, writeEpisode } from "../episodes/store.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import type { ManualSpan } from "../telemetry/fixed-span.ts";
import { dispatchOutcomeMetric, queueWaitMetric } from "../telemetry/metrics.ts";
import { retryBaseSeconds, retryDelaySeconds } from "./backoff.ts";
import { withConsumerSpan } from "./consumer-span.ts";

async function recordRetry(env: Env, job: EpisodeJob, attempt: number, reason: string): Promise<void> {
  const episode = await readEpisode(env.MEDIA, job.episodeId);
  if (!episode) return;
  const waiting = episode.state === "published" || episode.state === "failed" ? {} : { state: "queued" as const, stage: undefined };
  await writeEpisode(env.MEDIA, touch(episode, { ...waiting, lastRetry: { attempt, reason, at: new Date().toISOString() } }));
}

/** The processor marks the episode failed before answering 422; make sure, in case it could not. */
async function recordRejection(env: Env, job: EpisodeJob, reason: string): Promise<void> {
  const episode = await readEpisode(env.MEDIA, job.episodeId);
  if (!episode || episode.state === "failed") return;
  await writeEpisode(env.MEDIA, touch(episode, { state: "failed", stage: undefined, failure: { reason, permanent: true } }));
}

async function settle(env: Env, msg: Message<unknown>, job: EpisodeJob, handoff: Handoff, span: ManualSpan): Promise<void> {
  span.setAttribute(ATTR.outcome, handoff.outcome);
  switch (handoff.outcome) {
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
    if (episode?.state === "published") {
      // A duplicate delivery (at-least-once) of a job already done.
      span.setAttribute(ATTR.outcome, "duplicate");
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
