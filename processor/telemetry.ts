/**
 * OpenTelemetry for the processor: the NodeSDK with OTLP/HTTP protobuf
 * exporters for traces and metrics. The exporters read
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_HEADERS themselves, so the
 * headers (an API key) never pass through our code. Without an endpoint
 * nothing is exported and nothing else changes. Works on Node and on Deno
 * (do not also set OTEL_DENO=true: that would start Deno's built-in SDK too).
 */
import { NodeSDK } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { PeriodicExportingMetricReader, type MetricReader } from "@opentelemetry/sdk-metrics";

export interface TelemetryOptions {
  serviceName: string;
  otlpEndpoint?: string;
  metricExportIntervalMs: number;
  /** Test hook: extra span processors (e.g. an in-memory exporter), used with or without OTLP. */
  spanProcessors?: SpanProcessor[];
  /** Test hook: extra metric readers. */
  metricReaders?: MetricReader[];
}

export interface Telemetry {
  /** Sends what is buffered now: called at the end of every job so its spans and metrics leave promptly. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function startTelemetry(opts: TelemetryOptions): Telemetry {
  const spanProcessors: SpanProcessor[] = [...(opts.spanProcessors ?? [])];
  const metricReaders: MetricReader[] = [...(opts.metricReaders ?? [])];
  if (opts.otlpEndpoint) {
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 }));
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: opts.metricExportIntervalMs,
        exportTimeoutMillis: Math.min(opts.metricExportIntervalMs, 30_000),
      }),
    );
  }
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    // Explicit lists: NodeSDK would otherwise build OTLP exporters from the
    // environment (defaulting to localhost:4318) even with no endpoint set.
    spanProcessors,
    metricReaders,
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return {
    async flush() {
      await Promise.allSettled([...spanProcessors.map((p) => p.forceFlush()), ...metricReaders.map((r) => r.forceFlush())]);
    },
    shutdown: () => sdk.shutdown(),
  };
}
