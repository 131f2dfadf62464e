/**
 * The edge's metrics. otel-cf-workers has no metrics, and a Worker has no
 * long-lived process to run a periodic reader in, so each event is sent
 * once, as a delta data point, when it happens.
 */
import type { Attributes } from "@opentelemetry/api";
import { METRICS } from "../../shared/telemetry.ts";
import type { EdgeTelemetry } from "./config.ts";
import { encodeMetrics, type MetricPoint } from "./otlp-proto.ts";
import { postOtlp } from "./otlp-protobuf-exporter.ts";

/** Names of the edge's own counters, in the app namespace next to shared METRICS. */
export const EDGE_METRICS = {
  uploadsCompleted: "audio.uploads.completed",
  uploadsAbandoned: "audio.uploads.abandoned",
  dispatchOutcomes: "audio.dispatch.outcomes",
  /** Seconds from the job's send to this delivery: the queue's lag, which operators alert on. */
  queueWait: "audio.queue.wait",
} as const;

/** Seconds: a job picked up at once, up to one that waited out every retry's backoff. */
const QUEUE_WAIT_BOUNDS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600] as const;

/** Seconds: a 100 MB upload on a good line to a multi-GB one over an afternoon. */
const UPLOAD_DURATION_BOUNDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400] as const;

function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

async function send(t: EdgeTelemetry, points: MetricPoint[]): Promise<void> {
  if (!t.target || points.length === 0) return;
  const body = encodeMetrics(t.resource.attributes, "podcast-edge", points.map((p) => ({ ...p, attributes: t.redactor.attributes(p.attributes) })));
  await postOtlp(t.target.metricsUrl, t.target.headers, body);
}

function counter(name: string, description: string, attributes: Attributes): MetricPoint {
  const now = nowNanos();
  return { kind: "counter", name, description, unit: "{count}", value: 1, attributes, startNanos: now, timeNanos: now };
}

/** One duration in seconds, as a histogram point whose interval is the duration itself. */
function seconds(name: string, description: string, value: number, bounds: readonly number[], attributes: Attributes): MetricPoint {
  const now = nowNanos();
  return { kind: "histogram", name, description, unit: "s", value, bounds, attributes, startNanos: now - BigInt(Math.round(value * 1e9)), timeNanos: now };
}

export function uploadCompletedMetrics(t: EdgeTelemetry, durationSeconds: number, attributes: Attributes): Promise<void> {
  return send(t, [
    seconds(METRICS.uploadDuration, "Time from upload creation to its last byte stored", durationSeconds, UPLOAD_DURATION_BOUNDS, attributes),
    counter(EDGE_METRICS.uploadsCompleted, "Uploads whose last byte was stored", attributes),
  ]);
}

export function uploadAbandonedMetrics(t: EdgeTelemetry, attributes: Attributes): Promise<void> {
  return send(t, [counter(EDGE_METRICS.uploadsAbandoned, "Uploads terminated, expired or rejected", attributes)]);
}

/** One hand-off to the processor and what came of it: published, rejected, retry, dead_letter. */
export function dispatchOutcomeMetric(t: EdgeTelemetry, attributes: Attributes): Promise<void> {
  return send(t, [counter(EDGE_METRICS.dispatchOutcomes, "Queue deliveries handed to the processor, by outcome", attributes)]);
}

/**
 * How long a delivered job waited on the queue (from its send, so retries include their backoff).
 * Cloudflare Queues reports its backlog only through its analytics API; this is the lag the edge
 * itself sees, per attempt, so a growing backlog shows as growing first-attempt waits.
 */
export function queueWaitMetric(t: EdgeTelemetry, waitSeconds: number, attributes: Attributes): Promise<void> {
  return send(t, [seconds(EDGE_METRICS.queueWait, "Time from a job's send to its delivery to the consumer", waitSeconds, QUEUE_WAIT_BOUNDS, attributes)]);
}
