/**
 * OpenTelemetry for the processor: a tracer provider and a meter provider
 * with OTLP/HTTP protobuf exporters. The exporters read
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_HEADERS themselves, so the
 * headers (an API key) never pass through our code. Without an endpoint
 * nothing is exported and nothing else changes. Works on Node and on Deno
 * (do not also set OTEL_DENO=true: that would start Deno's built-in SDK too).
 *
 * Built from the SDK's parts rather than @opentelemetry/sdk-node's NodeSDK:
 * NodeSDK's module loads every exporter it can configure (gRPC, HTTP/JSON,
 * Zipkin, Prometheus, logs), which measured 115 MB resident and 1.1 s to
 * import against 72 MB and 0.5 s for these parts; the processor's memory
 * budget (under 300 MB with its ffmpeg children) is better spent on ffmpeg.
 * The resource carries what NodeSDK's did: OTEL_RESOURCE_ATTRIBUTES, host,
 * process, and the configured service.name.
 */
import { metrics } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { RedactingSpanProcessor } from "./redact.ts";

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
  // Redaction first: every processor after it sees the span with secrets removed.
  const spanProcessors: SpanProcessor[] = [new RedactingSpanProcessor(), ...(opts.spanProcessors ?? [])];
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
  // As NodeSDK: detected attributes (OTEL_RESOURCE_ATTRIBUTES, host, process), then the configured name
  // (config.ts already took OTEL_SERVICE_NAME into it) over them.
  const resource = detectResources({ detectors: [envDetector, hostDetector, processDetector] }).merge(
    resourceFromAttributes({ "service.name": opts.serviceName }),
  );
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  // Global tracer provider, AsyncLocalStorage context manager, W3C trace context + baggage propagators.
  tracerProvider.register();
  const meterProvider = new MeterProvider({ resource, readers: metricReaders });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    async flush() {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
