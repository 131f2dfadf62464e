/**
 * Jobs whose hand-off used up its retries land here: the episode is marked
 * failed, not permanently (the input may be fine), with the last reason the
 * hand-off gave. An operator can re-run it (edge/operators).
 */
import type { Env } from "../env.ts";
import { deadLettered, isSettled } from "../../shared/episode-lifecycle.ts";
import type { TraceCarrier } from "../../shared/job.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { readEpisode, writeEpisode } from "../episodes/store.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import { dispatchOutcomeMetric } from "../telemetry/metrics.ts";
import { withConsumerSpan } from "./consumer-span.ts";

/** Dead letters are read leniently: a message that failed validation upstream still names its episode. */
function deadJob(body: unknown): { episodeId?: string; trace?: TraceCarrier } {
  const b = body as { episodeId?: unknown; trace?: { traceparent?: unknown; tracestate?: unknown } } | null;
  const episodeId = typeof b?.episodeId === "string" ? b.episodeId : undefined;
  const traceparent = b?.trace?.traceparent;
  return {
    episodeId,
    ...(typeof traceparent === "string"
      ? { trace: { traceparent, ...(typeof b?.trace?.tracestate === "string" ? { tracestate: b.trace.tracestate } : {}) } }
      : {}),
  };
}

export async function handleDeadLetter(
  env: Env,
  ctx: ExecutionContext,
  t: EdgeTelemetry,
  queue: string,
  msg: Message<unknown>,
): Promise<void> {
  const { episodeId, trace } = deadJob(msg.body);
  if (!episodeId) {
    console.error(`dropping dead letter ${msg.id}: no episode id`);
    msg.ack();
    return;
  }
  await withConsumerSpan(t, ctx, queue, msg, trace, { [ATTR.episodeId]: episodeId }, async (span) => {
    const episode = await readEpisode(env.MEDIA, episodeId);
    if (!episode || isSettled(episode)) {
      span.setAttribute(ATTR.outcome, "already_settled");
      msg.ack();
      return;
    }
    // A run in progress (the hand-off of a re-send failed while it ran) owns the record: it ends it.
    if (episode.state === "processing") {
      span.setAttribute(ATTR.outcome, "run_in_progress");
      msg.ack();
      return;
    }
    const next = deadLettered(episode, episode.lastRetry?.delivery);
    const reason = next.failure!.reason;
    await writeEpisode(env.MEDIA, next);
    span.setAttribute(ATTR.outcome, "dead_letter");
    span.setAttribute(ATTR.failureReason, reason);
    msg.ack();
    ctx.waitUntil(dispatchOutcomeMetric(t, { "audio.dispatch.outcome": "dead_letter" }));
  });
}
