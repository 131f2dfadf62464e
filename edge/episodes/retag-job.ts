/**
 * Chapters supplied after publication reach the renditions through a
 * `retag-chapters` job (shared/job.ts): sent on the episode-jobs queue with
 * the W3C context of the request that supplied them, handed to the processor
 * by the queue consumer through the same signed POST /jobs as an episode job
 * (edge/dispatch/processor.ts), run there under the episode's lease
 * (processor/retag/). Its progress is the record's `chaptersRetag`.
 */
import { trace } from "@opentelemetry/api";
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { parseProcessorJob, isRetagChaptersJob, type RetagChaptersJob, type TraceCarrier } from "../../shared/job.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { dispatchJob } from "../dispatch/processor.ts";
import { settleHandoff } from "../queue/settle-handoff.ts";
import { withConsumerSpan } from "../queue/consumer-span.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import { randomSpanId } from "../telemetry/fixed-span.ts";
import { RecordGone } from "../update-record.ts";
import { readEpisode, updateEpisode } from "./store.ts";

/** The context of the request being handled (otel-cf-workers' span), or a new trace when there is none. */
export function requestTrace(): TraceCarrier {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (ctx && /^[0-9a-f]{32}$/.test(ctx.traceId) && !/^0+$/.test(ctx.traceId)) {
    return { traceparent: `00-${ctx.traceId}-${ctx.spanId}-0${ctx.traceFlags & 1}` };
  }
  return { traceparent: `00-${crypto.randomUUID().replace(/-/g, "")}-${randomSpanId()}-01` };
}

export const traceIdOf = (carrier: TraceCarrier) => carrier.traceparent.split("-")[1]!;

export function retagJobFor(episode: Episode, carrier: TraceCarrier): RetagChaptersJob {
  return { version: 1, kind: "retag-chapters", episodeId: episode.episodeId, podcastId: episode.podcastId, trace: carrier };
}

export { isRetagChaptersJob };

/** The record's re-tag state, when it still concerns `revision` (a newer request owns it otherwise). */
async function noteRetag(
  env: Env,
  episodeId: string,
  revision: string,
  change: Partial<NonNullable<Episode["chaptersRetag"]>>,
  warning?: string,
): Promise<void> {
  try {
    await updateEpisode(env.MEDIA, episodeId, (current) => {
      if (current.chaptersRetag?.revision !== revision || current.chaptersRetag.state !== "pending") return current;
      const rest = (current.warnings ?? []).filter((w) => w.kind !== "chapters");
      return {
        ...current,
        chaptersRetag: { ...current.chaptersRetag, ...change },
        ...(warning ? { warnings: [...rest, { kind: "chapters" as const, message: warning }] } : {}),
        updatedAt: new Date().toISOString(),
      };
    });
  } catch (err) {
    if (!(err instanceof RecordGone)) throw err;
  }
}

/** One delivery of a retag job: the processor takes it (or has nothing to do): ack; refused: ack, the record says why; transient: retried with backoff. */
export async function handleRetagJob(
  env: Env,
  ctx: ExecutionContext,
  t: EdgeTelemetry,
  queue: string,
  msg: Message<unknown>,
): Promise<void> {
  let job: RetagChaptersJob;
  try {
    const parsed = parseProcessorJob(msg.body);
    if (!isRetagChaptersJob(parsed)) throw new Error("not a retag-chapters job");
    job = parsed;
  } catch (err) {
    console.error(`dropping message ${msg.id} on ${queue}: ${err instanceof Error ? err.message : err}`);
    msg.ack();
    return;
  }
  const attrs = { [ATTR.episodeId]: job.episodeId, [ATTR.podcastId]: job.podcastId, "audio.job.kind": job.kind };
  await withConsumerSpan(t, ctx, queue, msg, job.trace, attrs, async (span) => {
    const episode = await readEpisode(env.MEDIA, job.episodeId);
    const revision = episode?.chaptersRetag?.revision;
    if (!episode || !revision) {
      span.setAttribute(ATTR.outcome, "no_episode");
      msg.ack();
      return;
    }
    // The processor's audio.chapters.retag becomes a child of this consumer span.
    const handoff = await dispatchJob(env, job, span.traceparent);
    await settleHandoff(
      env,
      msg,
      handoff,
      span,
      {
        rejected: (reason) =>
          noteRetag(
            env,
            job.episodeId,
            revision,
            { state: "failed", reason, finishedAt: new Date().toISOString() },
            `the new chapters could not be written into the audio files (${reason}); they keep their previous chapters`,
          ),
        retrying: (_delivery, reason) => noteRetag(env, job.episodeId, revision, { reason: `waiting for the processor: ${reason}` }),
      },
      `re-tag of episode ${job.episodeId}`,
    );
  });
}
