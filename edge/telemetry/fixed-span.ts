/**
 * Spans whose ids are decided in advance. The root span `audio.upload`
 * covers an upload that lasts hours across many requests and isolates: its
 * trace and span ids were fixed when the upload was created (UploadTrace),
 * so it cannot come from a tracer that draws fresh ids. These spans are
 * built whole and handed to the same exporter as every other span.
 */
import { type SpanKind, SpanStatusCode, type Attributes, type HrTime, type SpanContext } from "@opentelemetry/api";
import type { EncodableSpan } from "./otlp-proto.ts";

const SAMPLED = 1;

export function randomSpanId(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function hrTime(at: Date | string): HrTime {
  const ms = typeof at === "string" ? Date.parse(at) : at.getTime();
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

export interface FixedSpanInit {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  start: Date | string;
  end: Date | string;
  attributes: Attributes;
  error?: string;
  resource: { attributes: Attributes };
}

export function fixedSpan(init: FixedSpanInit): EncodableSpan & { context: SpanContext } {
  const context: SpanContext = { traceId: init.traceId, spanId: init.spanId, traceFlags: SAMPLED, isRemote: false };
  return {
    context,
    name: init.name,
    kind: init.kind,
    spanContext: () => context,
    ...(init.parentSpanId
      ? { parentSpanContext: { traceId: init.traceId, spanId: init.parentSpanId, traceFlags: SAMPLED, isRemote: true } }
      : {}),
    startTime: hrTime(init.start),
    endTime: hrTime(init.end),
    attributes: init.attributes,
    events: [],
    links: [],
    status: init.error ? { code: SpanStatusCode.ERROR, message: init.error } : { code: SpanStatusCode.UNSET },
    resource: init.resource,
    instrumentationScope: { name: "podcast-edge" },
  };
}

/** W3C traceparent of a span we built: always sampled (flags 01). */
export function traceparentOf(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-0${ctx.traceFlags & SAMPLED}`;
}

/** A span the edge times itself (no tracer involved): attributes and status may change until `end()`. */
export interface ManualSpan {
  readonly context: SpanContext;
  readonly traceparent: string;
  setAttribute(key: string, value: string | number | boolean): void;
  fail(message: string): void;
  end(at?: Date): EncodableSpan;
}

export function startManualSpan(init: Omit<FixedSpanInit, "spanId" | "start" | "end" | "error"> & { start?: Date }): ManualSpan {
  const spanId = randomSpanId();
  const start = init.start ?? new Date();
  const attributes: Attributes = { ...init.attributes };
  let error: string | undefined;
  const context: SpanContext = { traceId: init.traceId, spanId, traceFlags: SAMPLED };
  return {
    context,
    traceparent: traceparentOf(context),
    setAttribute: (k, v) => {
      attributes[k] = v;
    },
    fail: (message) => {
      error = message;
    },
    end: (at = new Date()) => fixedSpan({ ...init, spanId, start, end: at, attributes, error }),
  };
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The parent named by a W3C traceparent, or undefined if it is malformed or all zeros. */
export function parseTraceparent(traceparent: string | undefined): { traceId: string; spanId: string } | undefined {
  const m = TRACEPARENT.exec(traceparent ?? "");
  if (!m || m[1] === "ff" || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]! };
}
