/**
 * The one way edge code hands over what it built itself (fixed-id spans,
 * manual spans, metric points): exported when an OTLP endpoint is
 * configured, dropped quietly otherwise. Never throws: telemetry must not
 * fail the work it describes.
 */
import type { EdgeTelemetry } from "./config.ts";
import { sendMetrics } from "./metrics.ts";
import type { EncodableSpan, MetricPoint } from "./otlp-proto.ts";

export interface Emission {
  spans?: EncodableSpan[];
  metrics?: MetricPoint[];
}

export async function emit(t: EdgeTelemetry, { spans = [], metrics = [] }: Emission): Promise<void> {
  await Promise.allSettled([t.exporter && spans.length > 0 ? t.exporter.send(spans) : Promise.resolve(), sendMetrics(t, metrics)]);
}
