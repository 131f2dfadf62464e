/**
 * One place that turns the Worker's settings into telemetry: the
 * otel-cf-workers configuration for instrument()/instrumentDO(), and the
 * exporter the edge uses for the spans and metrics it builds itself.
 */
import { BatchTraceSpanProcessor, type ResolveConfigFn, type TraceConfig } from "@microlabs/otel-cf-workers";
import type { Attributes } from "@opentelemetry/api";
import { SERVICE_NAMES } from "../../shared/telemetry.ts";
import { DiscardingSpanExporter, OtlpProtobufSpanExporter } from "./otlp-protobuf-exporter.ts";
import { otlpTarget, type OtlpSettings, type OtlpTarget } from "./otlp-target.ts";
import { Redactor } from "./redact.ts";

export interface TelemetrySettings extends OtlpSettings {
  OTEL_SERVICE_NAME?: string;
  ADMIN_TOKEN?: string;
  JOB_SIGNING_SECRET?: string;
}

export interface EdgeTelemetry {
  serviceName: string;
  /** Undefined when OTEL_EXPORTER_OTLP_ENDPOINT is not set. */
  target?: OtlpTarget;
  redactor: Redactor;
  /** Present only when there is somewhere to export to. */
  exporter?: OtlpProtobufSpanExporter;
  /** Resource attributes of everything the edge exports itself. */
  resource: { attributes: Attributes };
  /** The span processor otel-cf-workers' tracer uses (one per isolate). */
  spanProcessor: BatchTraceSpanProcessor;
}

let current: { key: string; telemetry: EdgeTelemetry } | undefined;

/** Per isolate, settings do not change; cached so the tracer and the edge share one processor and exporter. */
export function edgeTelemetry(env: TelemetrySettings): EdgeTelemetry {
  const key = [env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_HEADERS, env.OTEL_SERVICE_NAME, env.ADMIN_TOKEN].join("\u0000");
  if (current?.key === key) return current.telemetry;
  const serviceName = env.OTEL_SERVICE_NAME || SERVICE_NAMES.edge;
  const target = otlpTarget(env);
  const redactor = new Redactor([env.ADMIN_TOKEN, env.JOB_SIGNING_SECRET, ...Object.values(target?.headers ?? {})]);
  const exporter = target ? new OtlpProtobufSpanExporter(target, redactor) : undefined;
  const telemetry: EdgeTelemetry = {
    serviceName,
    target,
    redactor,
    exporter,
    resource: {
      attributes: {
        "service.name": serviceName,
        "cloud.provider": "cloudflare",
        "cloud.platform": "cloudflare.workers",
        "telemetry.sdk.language": "js",
        "telemetry.sdk.name": "podcast-edge",
      },
    },
    spanProcessor: new BatchTraceSpanProcessor(exporter ?? new DiscardingSpanExporter()),
  };
  current = { key, telemetry };
  return telemetry;
}

/** The otel-cf-workers configuration, resolved per trigger from the Worker's env. */
export const traceConfig: ResolveConfigFn<TelemetrySettings> = (env): TraceConfig => {
  const t = edgeTelemetry(env);
  return {
    service: { name: t.serviceName },
    spanProcessors: [t.spanProcessor],
    // Public clients' traceparent headers would hang requests under parents nobody exports; each request starts its own trace.
    handlers: { fetch: { acceptTraceContext: false } },
    // The Cache API is not used; no spans for it.
    instrumentation: { instrumentGlobalCache: false, instrumentGlobalFetch: true },
  };
};
