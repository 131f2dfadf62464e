/**
 * Traces one tus request inside the upload's Durable Object as a child of
 * the upload's `audio.upload` span (upload-request-span.ts):
 * what the upload looked like before and after, and how many body bytes
 * arrived. Nothing is read or built when no OTLP endpoint is configured.
 */
import { trace } from "@opentelemetry/api";
import type { Env } from "../env.ts";
import { edgeTelemetry } from "../telemetry/config.ts";
import { isTracedUploadMethod, uploadRequestSpan } from "./upload-request-span.ts";
import type { UploadTrace } from "../episodes/upload-events.ts";
import { CHECKSUM_ALGORITHMS } from "./checksum.ts";
import type { RequestScope } from "./context.ts";
import { integerHeader } from "./protocol.ts";
import type { UploadRecord, UploadRecords } from "./upload-record.ts";

export interface RequestTrace {
  countReceived(bytes: number): void;
  /** Builds and exports the span; never throws. */
  finish(status: number): Promise<void>;
}

function traceOf(r: UploadRecord | undefined, scope: RequestScope): UploadTrace | undefined {
  // Another podcast's upload answers 404 and is not this request's to join.
  if (!r || r.podcastId !== scope.podcastId || r.episodeId !== scope.episodeId) return undefined;
  return r.status === "receiving" ? r.trace : r.started.trace;
}

function offsetOf(r: UploadRecord | undefined): number | undefined {
  return r?.status === "receiving" ? r.offset : undefined;
}

function checksumAlgorithm(request: Request): string | undefined {
  const name = /^\s*([A-Za-z0-9-]+)\s/.exec(request.headers.get("Upload-Checksum") ?? "")?.[1]?.toLowerCase();
  if (!name) return undefined;
  return name in CHECKSUM_ALGORITHMS ? name : "unsupported";
}

export async function startRequestTrace(
  env: Env,
  records: UploadRecords,
  request: Request,
  scope: RequestScope,
): Promise<RequestTrace | undefined> {
  const t = edgeTelemetry(env);
  const exporter = t.exporter;
  if (!exporter || !isTracedUploadMethod(request.method)) return undefined;
  // The creation's span and the upload's root span start at the same instant, so no child starts before its parent.
  const start = new Date(scope.receivedAt);
  const requestSpan = trace.getActiveSpan()?.spanContext();
  const before = await records.read();
  let bytesReceived = 0;
  return {
    countReceived: (bytes) => {
      bytesReceived += bytes;
    },
    async finish(status) {
      try {
        const after = await records.read();
        const upload = traceOf(after, scope) ?? traceOf(before, scope);
        if (!upload) return;
        const declared = integerHeader(request.headers.get("Content-Length"));
        const span = uploadRequestSpan(t, {
          method: request.method,
          episodeId: scope.episodeId,
          podcastId: scope.podcastId,
          trace: upload,
          start,
          end: new Date(),
          status,
          offsetBefore: offsetOf(before),
          offsetAfter: offsetOf(after),
          bytesReceived,
          ...(declared !== undefined && !Number.isNaN(declared) ? { declaredBytes: declared } : {}),
          checksumAlgorithm: checksumAlgorithm(request),
          requestSpan,
        });
        await exporter.send([span]);
      } catch (err) {
        console.warn("tracing an upload request failed", err instanceof Error ? err.message : String(err));
      }
    },
  };
}
