/**
 * One span per tus request an upload's Durable Object handles (creation,
 * PATCH, HEAD, DELETE), parented on the upload's fixed `audio.upload` span,
 * so the whole upload - every chunk, retry and resume, over hours and many
 * connections - reads as one tree under audio.upload. Built whole, like the
 * other fixed-id spans, and linked to the request's own trace
 * (otel-cf-workers' "PATCH /uploads/:episodeId"), which starts fresh per request.
 */
import { SpanKind, type Attributes, type SpanContext } from "@opentelemetry/api";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import type { UploadTrace } from "../episodes/upload-events.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import { fixedSpan, randomSpanId } from "../telemetry/fixed-span.ts";
import type { EncodableSpan } from "../telemetry/otlp-proto.ts";

const NAMES: Record<string, string> = {
  POST: SPANS.uploadCreate,
  PATCH: SPANS.uploadPatch,
  HEAD: SPANS.uploadHead,
  DELETE: SPANS.uploadDelete,
};

export function isTracedUploadMethod(method: string): boolean {
  return method in NAMES;
}

export interface UploadRequest {
  method: string;
  episodeId: string;
  podcastId: string;
  /** The upload's root span, the parent. */
  trace: UploadTrace;
  start: Date;
  end: Date;
  status: number;
  /** The upload's offset when the request began (absent before creation) and when it ended (absent once gone). */
  offsetBefore?: number;
  offsetAfter?: number;
  bytesReceived: number;
  /** Content-Length as declared. */
  declaredBytes?: number;
  checksumAlgorithm?: string;
  /** The span the request is handled under in its own trace. */
  requestSpan?: SpanContext;
}

export function uploadRequestSpan(t: EdgeTelemetry, r: UploadRequest): EncodableSpan {
  const attributes: Attributes = {
    [ATTR.episodeId]: r.episodeId,
    [ATTR.podcastId]: r.podcastId,
    "http.request.method": r.method,
    "http.response.status_code": r.status,
    [ATTR.uploadBytesReceived]: r.bytesReceived,
    ...(r.declaredBytes !== undefined ? { "http.request.body.size": r.declaredBytes } : {}),
    ...(r.offsetBefore !== undefined ? { [ATTR.uploadOffsetBefore]: r.offsetBefore } : {}),
    ...(r.offsetAfter !== undefined ? { [ATTR.uploadOffsetAfter]: r.offsetAfter } : {}),
    ...(r.checksumAlgorithm ? { [ATTR.uploadChecksumAlgorithm]: r.checksumAlgorithm } : {}),
  };
  const span = fixedSpan({
    name: NAMES[r.method] ?? `audio.upload.${r.method.toLowerCase()}`,
    kind: SpanKind.INTERNAL,
    traceId: r.trace.traceId,
    spanId: randomSpanId(),
    parentSpanId: r.trace.spanId,
    start: r.start,
    end: r.end,
    attributes,
    // 4xx answers are the client's business (a stale offset, a wrong checksum): only the server's failures are errors.
    error: r.status >= 500 ? `answered ${r.status}` : undefined,
    resource: t.resource,
  });
  const linked = r.requestSpan && /[1-9a-f]/.test(r.requestSpan.traceId) ? [{ context: r.requestSpan, attributes: {} }] : [];
  return { ...span, links: linked };
}
