/**
 * The upload's part of the episode trace: the root span `audio.upload` (ids
 * fixed at creation, see UploadTrace) and the PRODUCER span that puts the
 * job on the queue, whose context travels in the message body.
 */
import { SpanKind, type Attributes } from "@opentelemetry/api";
import { ATTR, MESSAGING, SPANS } from "../../shared/telemetry.ts";
import type { TraceCarrier } from "../../shared/job.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import { fixedSpan, randomSpanId, traceparentOf } from "../telemetry/fixed-span.ts";
import type { EncodableSpan } from "../telemetry/otlp-proto.ts";
import type { UploadStarted } from "./upload-events.ts";

export function uploadAttributes(upload: UploadStarted): Attributes {
  return {
    [ATTR.episodeId]: upload.episodeId,
    [ATTR.podcastId]: upload.podcastId,
    [ATTR.fileName]: upload.filename,
    ...(upload.size !== undefined ? { [ATTR.fileSize]: upload.size } : {}),
    [ATTR.storagePath]: upload.sourceKey,
  };
}

/** `audio.upload`: exactly the ids of the UploadTrace, no parent, from creation to `end`. */
export function uploadRootSpan(t: EdgeTelemetry, upload: UploadStarted, end: string, error?: string): EncodableSpan {
  return fixedSpan({
    name: SPANS.upload,
    kind: SpanKind.SERVER,
    traceId: upload.trace.traceId,
    spanId: upload.trace.spanId,
    start: upload.createdAt,
    end,
    attributes: uploadAttributes(upload),
    error,
    resource: t.resource,
  });
}

export interface QueueSend {
  span(end: Date, error?: string): EncodableSpan;
  /** W3C context of the send span: goes into the message body. */
  carrier: TraceCarrier;
}

/** `send <queue>` (PRODUCER), a child of audio.upload. */
export function startQueueSend(t: EdgeTelemetry, upload: UploadStarted, queue: string, start = new Date()): QueueSend {
  const spanId = randomSpanId();
  const carrier: TraceCarrier = {
    traceparent: traceparentOf({ traceId: upload.trace.traceId, spanId, traceFlags: 1 }),
  };
  return {
    carrier,
    span: (end, error) =>
      fixedSpan({
        name: SPANS.queueSend(queue),
        kind: SpanKind.PRODUCER,
        traceId: upload.trace.traceId,
        spanId,
        parentSpanId: upload.trace.spanId,
        start,
        end,
        attributes: {
          [MESSAGING.systemAttr]: MESSAGING.system,
          [MESSAGING.destination]: queue,
          [MESSAGING.operationType]: "send",
          [MESSAGING.operationName]: "send",
          [ATTR.episodeId]: upload.episodeId,
          [ATTR.podcastId]: upload.podcastId,
        },
        error,
        resource: t.resource,
      }),
  };
}
