/**
 * The edge's metrics. otel-cf-workers has no metrics, and a Worker has no
 * long-lived process to run a periodic reader in, so each event is sent
 * once, as a delta data point, when it happens; gauges are read and sent by
 * the scheduled handler. This file builds points; `emit` (emit.ts) sends them.
 */
import type { Attributes } from "@opentelemetry/api";
import { METRICS } from "../../shared/telemetry.ts";
import type { EdgeTelemetry } from "./config.ts";
import { encodeMetrics, type MetricPoint } from "./otlp-proto.ts";
import { postOtlp } from "./otlp-protobuf-exporter.ts";

/** Seconds: a job picked up at once, up to one that waited out every retry's backoff. */
const QUEUE_WAIT_BOUNDS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600] as const;

/** Seconds: a 100 MB upload on a good line to a multi-GB one over an afternoon. */
const UPLOAD_DURATION_BOUNDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400] as const;

function nowNanos(at = Date.now()): bigint {
  return BigInt(at) * 1_000_000n;
}

/** One OTLP metrics request for the points; nothing when no endpoint is configured. Never throws. */
export async function sendMetrics(t: EdgeTelemetry, points: MetricPoint[]): Promise<void> {
  if (!t.target || points.length === 0) return;
  const body = encodeMetrics(
    t.resource.attributes,
    "podcast-edge",
    points.map((p) => ({ ...p, attributes: t.redactor.attributes(p.attributes) })),
  );
  await postOtlp(t.target.metricsUrl, t.target.headers, body);
}

export function counter(name: string, description: string, attributes: Attributes): MetricPoint {
  const now = nowNanos();
  return { kind: "counter", name, description, unit: "{count}", value: 1, attributes, startNanos: now, timeNanos: now };
}

/** One duration in seconds, as a histogram point whose interval is the duration itself. */
export function seconds(name: string, description: string, value: number, bounds: readonly number[], attributes: Attributes): MetricPoint {
  const now = nowNanos();
  return {
    kind: "histogram",
    name,
    description,
    unit: "s",
    value,
    bounds,
    attributes,
    startNanos: now - BigInt(Math.round(value * 1e9)),
    timeNanos: now,
  };
}

/** A reading of something that goes up and down (a queue's backlog), as of `at`. */
export function gauge(
  name: string,
  description: string,
  unit: string,
  value: number,
  attributes: Attributes,
  at = new Date(),
): MetricPoint {
  return { kind: "gauge", name, description, unit, value, attributes, timeNanos: nowNanos(at.getTime()) };
}

export function uploadCompletedPoints(durationSeconds: number, attributes: Attributes): MetricPoint[] {
  return [
    seconds(
      METRICS.uploadDuration,
      "Time from upload creation to its last byte stored",
      durationSeconds,
      UPLOAD_DURATION_BOUNDS,
      attributes,
    ),
    counter(METRICS.uploadsCompleted, "Uploads whose last byte was stored", attributes),
  ];
}

export function uploadAbandonedPoints(attributes: Attributes): MetricPoint[] {
  return [counter(METRICS.uploadsAbandoned, "Uploads terminated, expired or rejected", attributes)];
}

/** One hand-off to the processor and what came of it: published, rejected, retry, dead_letter. */
export function dispatchOutcomeMetric(t: EdgeTelemetry, attributes: Attributes): Promise<void> {
  return sendMetrics(t, [counter(METRICS.dispatchOutcomes, "Queue deliveries handed to the processor, by outcome", attributes)]);
}

/**
 * How long a delivered job waited on the queue (from its send, so retries include their backoff):
 * the lag the consumer itself sees, per attempt. The backlog itself is a gauge (edge/scheduled/queue-backlog.ts).
 */
export function queueWaitMetric(t: EdgeTelemetry, waitSeconds: number, attributes: Attributes): Promise<void> {
  return sendMetrics(t, [
    seconds(METRICS.queueWait, "Time from a job's send to its delivery to the consumer", waitSeconds, QUEUE_WAIT_BOUNDS, attributes),
  ]);
}
