/**
 * Queue depth, as operators alert on it: every minute, the backlog of
 * episode-jobs and of its dead letter queue (messages, bytes, age of the
 * oldest message), read from the queues' own producer bindings and exported
 * as OTLP gauges with messaging.destination.name.
 */
import type { Env } from "../env.ts";
import { MESSAGING, METRICS } from "../../shared/telemetry.ts";
import { edgeTelemetry } from "../telemetry/config.ts";
import { emit } from "../telemetry/emit.ts";
import { gauge } from "../telemetry/metrics.ts";
import type { MetricPoint } from "../telemetry/otlp-proto.ts";
import { JOBS_QUEUE } from "../queue/names.ts";

/** wrangler.toml's dead_letter_queue of episode-jobs (its producer binding is JOBS_DLQ). */
const JOBS_DLQ_QUEUE = `${JOBS_QUEUE}-dlq`;

/** The local runtime reports an empty queue's oldest message as timestamp 0; production may leave it out. */
function oldestAgeSeconds(oldest: Date | number | undefined, now: Date): number {
  const at = oldest instanceof Date ? oldest.getTime() : typeof oldest === "number" ? oldest : 0;
  return at > 0 ? Math.max(0, (now.getTime() - at) / 1000) : 0;
}

export function backlogPoints(queue: string, metrics: QueueMetrics, now: Date): MetricPoint[] {
  const attributes = { [MESSAGING.destination]: queue };
  return [
    gauge(METRICS.queueBacklogMessages, "Messages waiting on the queue", "{message}", metrics.backlogCount, attributes, now),
    gauge(METRICS.queueBacklogBytes, "Bytes of the messages waiting on the queue", "By", metrics.backlogBytes, attributes, now),
    gauge(
      METRICS.queueOldestMessageAge,
      "Age of the oldest message waiting on the queue",
      "s",
      oldestAgeSeconds(metrics.oldestMessageTimestamp, now),
      attributes,
      now,
    ),
  ];
}

export async function queueBacklog(env: Env, now: Date): Promise<void> {
  const t = edgeTelemetry(env);
  if (!t.target) return;
  const queues: [string, Queue<unknown>][] = [
    [JOBS_QUEUE, env.JOBS],
    [JOBS_DLQ_QUEUE, env.JOBS_DLQ],
  ];
  const points: MetricPoint[] = [];
  for (const [name, binding] of queues) {
    try {
      points.push(...backlogPoints(name, await binding.metrics(), now));
    } catch (err) {
      // One unreadable queue must not hide the other's backlog.
      console.error(`queue ${name}: backlog not readable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  await emit(t, { metrics: points });
}
