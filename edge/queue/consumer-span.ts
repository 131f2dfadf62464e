/**
 * The CONSUMER span `process <queue>` of one message: a child of the send
 * span whose context the message body carries, built and exported by the
 * edge itself. (The queue handler is deliberately not wrapped by
 * otel-cf-workers: rc.52's message proxy drops the options of
 * `msg.retry({delaySeconds})`, which would defeat the backoff.)
 */
import { SpanKind, type Attributes } from "@opentelemetry/api";
import { ATTR, MESSAGING, SPANS } from "../../shared/telemetry.ts";
import type { TraceCarrier } from "../../shared/job.ts";
import type { EdgeTelemetry } from "../telemetry/config.ts";
import { parseTraceparent, startManualSpan, type ManualSpan } from "../telemetry/fixed-span.ts";

export async function withConsumerSpan<T>(
  t: EdgeTelemetry,
  ctx: ExecutionContext,
  queue: string,
  msg: Message<unknown>,
  carrier: TraceCarrier | undefined,
  attributes: Attributes,
  fn: (span: ManualSpan) => Promise<T>,
): Promise<T> {
  const parent = parseTraceparent(carrier?.traceparent);
  const span = startManualSpan({
    name: SPANS.queueProcess(queue),
    kind: SpanKind.CONSUMER,
    // A message without usable context still gets a span, as the root of its own trace.
    traceId: parent?.traceId ?? crypto.randomUUID().replace(/-/g, ""),
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    attributes: {
      "messaging.system": MESSAGING.system,
      "messaging.destination.name": queue,
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.message.id": msg.id,
      [ATTR.attempt]: msg.attempts,
      ...attributes,
    },
    resource: t.resource,
  });
  try {
    return await fn(span);
  } catch (err) {
    span.fail(err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    const ended = span.end();
    if (t.exporter) ctx.waitUntil(t.exporter.send([ended]));
  }
}
