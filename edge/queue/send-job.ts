/**
 * The job message of an episode, built from its record (the processor reads
 * the record again and trusts only it), and the re-send the sweep and the
 * operators' re-run use: a new message on the queue, with a PRODUCER span in
 * the episode's trace so the new delivery joins it.
 */
import { SpanKind } from "@opentelemetry/api";
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import type { EpisodeJob, TraceCarrier } from "../../shared/job.ts";
import { ATTR, MESSAGING, SPANS } from "../../shared/telemetry.ts";
import { edgeTelemetry } from "../telemetry/config.ts";
import { fixedSpan, randomSpanId, traceparentOf } from "../telemetry/fixed-span.ts";
import { JOBS_QUEUE } from "./names.ts";

export function jobFor(episode: Episode, trace: TraceCarrier): EpisodeJob {
  return {
    version: 1,
    episodeId: episode.episodeId,
    podcastId: episode.podcastId,
    sourceKey: episode.sourceKey,
    filename: episode.filename,
    size: episode.size ?? 0,
    title: episode.title,
    uploadedAt: episode.uploadedAt ?? episode.updatedAt,
    trace,
  };
}

/** Sends the episode's job again; `why` goes on the send span (`audio.pipeline.resend_reason`). */
export async function resendJob(env: Env, episode: Episode, why: string, ctx?: Pick<ExecutionContext, "waitUntil">): Promise<void> {
  const t = edgeTelemetry(env);
  const spanId = randomSpanId();
  const start = new Date();
  const carrier: TraceCarrier = { traceparent: traceparentOf({ traceId: episode.traceId, spanId, traceFlags: 1 }) };
  let error: string | undefined;
  try {
    await env.JOBS.send(jobFor(episode, carrier), { contentType: "json" });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    throw err;
  } finally {
    if (t.exporter) {
      const span = fixedSpan({
        name: SPANS.queueSend(JOBS_QUEUE),
        kind: SpanKind.PRODUCER,
        traceId: episode.traceId,
        spanId,
        start,
        end: new Date(),
        attributes: {
          "messaging.system": MESSAGING.system,
          "messaging.destination.name": JOBS_QUEUE,
          "messaging.operation.type": "send",
          "messaging.operation.name": "send",
          [ATTR.episodeId]: episode.episodeId,
          [ATTR.podcastId]: episode.podcastId,
          "audio.pipeline.resend_reason": why,
        },
        error,
        resource: t.resource,
      });
      const sent = t.exporter.send([span]).catch(() => undefined);
      if (ctx) ctx.waitUntil(sent);
      else await sent;
    }
  }
}
