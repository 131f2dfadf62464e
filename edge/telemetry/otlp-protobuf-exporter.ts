/**
 * SpanExporter for workerd: redacts, encodes OTLP/HTTP protobuf and POSTs to
 * `${OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`. otel-cf-workers' own exporter
 * speaks JSON only, and its postProcessor hook is never called (rc.52), so
 * redaction lives here.
 */
import { __unwrappedFetch } from "@microlabs/otel-cf-workers";
import type { SpanExporter, ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { ExportResult } from "@opentelemetry/core";
import { encodeTraces, type EncodableSpan } from "./otlp-proto.ts";
import type { OtlpTarget } from "./otlp-target.ts";
import type { Redactor } from "./redact.ts";

const EXPORT_TIMEOUT_MS = 10_000;
// ExportResultCode of @opentelemetry/core (a transitive package: only its types are used here).
const SUCCESS = 0 as ExportResult["code"];
const FAILED = 1 as ExportResult["code"];

/** POSTs one OTLP protobuf body; resolves false (never throws) when the collector is unreachable or refuses it. */
export async function postOtlp(url: string, headers: Record<string, string>, body: Uint8Array): Promise<boolean> {
  try {
    // The unwrapped fetch: exporting must not create spans of its own.
    const res = await __unwrappedFetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-protobuf" },
      body,
      signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) console.warn(`OTLP export to ${new URL(url).pathname} answered ${res.status}`);
    return res.ok;
  } catch (err) {
    console.warn(`OTLP export to ${new URL(url).pathname} failed: ${err instanceof Error ? err.name : "error"}`);
    return false;
  }
}

export class OtlpProtobufSpanExporter implements SpanExporter {
  private readonly target: OtlpTarget;
  private readonly redactor: Redactor;

  constructor(target: OtlpTarget, redactor: Redactor) {
    this.target = target;
    this.redactor = redactor;
  }

  /** Export and wait: used for the spans the edge builds itself (audio.upload, queue send). */
  async send(spans: EncodableSpan[]): Promise<boolean> {
    if (spans.length === 0) return true;
    const body = encodeTraces(spans.map((s) => this.redactor.span(s)));
    return postOtlp(this.target.tracesUrl, this.target.headers, body);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.send(spans as unknown as EncodableSpan[]).then(
      (ok) => done({ code: ok ? SUCCESS : FAILED }),
      (error) => done({ code: FAILED, error }),
    );
  }

  async shutdown(): Promise<void> {}
}

/** Without OTEL_EXPORTER_OTLP_ENDPOINT: spans are dropped quietly. */
export class DiscardingSpanExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    done({ code: SUCCESS });
  }
  async shutdown(): Promise<void> {}
}
