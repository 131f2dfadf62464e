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
} as const;

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

export function uploadCompletedMetrics(t: EdgeTelemetry, durationSeconds: number, attributes: Attributes): Promise<void> {
  const now = nowNanos();
  return send(t, [
    {
      kind: "histogram",
      name: METRICS.uploadDuration,
      description: "Time from upload creation to its last byte stored",
      unit: "s",
      value: durationSeconds,
      bounds: UPLOAD_DURATION_BOUNDS,
      attributes,
      startNanos: now - BigInt(Math.round(durationSeconds * 1e9)),
      timeNanos: now,
    },
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
