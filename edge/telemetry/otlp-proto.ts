/**
 * OTLP protobuf encoding of traces and metrics, by hand. The OTLP messages the
 * edge sends are few and small, and the protobufjs-based serializer in
 * @opentelemetry/otlp-transformer 0.200 (the copy otel-cf-workers pulls in)
 * leans on `eval` for module lookups, which workerd forbids. Field numbers are
 * those of opentelemetry-proto v1 (trace.proto, metrics.proto, common.proto).
 */
import type { AttributeValue, Attributes, HrTime, SpanContext } from "@opentelemetry/api";

class ProtoWriter {
  private chunks: number[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
    return this;
  }
  private tag(field: number, wireType: number) {
    return this.varint((field << 3) | wireType);
  }
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.chunks.push(b);
    return this;
  }
  string(field: number, s: string | undefined): this {
    return s ? this.bytes(field, new TextEncoder().encode(s)) : this;
  }
  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.finish());
  }
  uint(field: number, v: number | bigint | undefined): this {
    return v ? this.tag(field, 0).varint(v) : this;
  }
  /** int64: a varint of the two's complement, so negatives take ten bytes. */
  int64(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  bool(field: number, v: boolean): this {
    return this.tag(field, 0).varint(v ? 1 : 0);
  }
  fixed64(field: number, v: bigint): this {
    this.tag(field, 1);
    const b = new DataView(new ArrayBuffer(8));
    b.setBigUint64(0, BigInt.asUintN(64, v), true);
    for (const x of new Uint8Array(b.buffer)) this.chunks.push(x);
    return this;
  }
  fixed32(field: number, v: number): this {
    this.tag(field, 5);
    const b = new DataView(new ArrayBuffer(4));
    b.setUint32(0, v >>> 0, true);
    for (const x of new Uint8Array(b.buffer)) this.chunks.push(x);
    return this;
  }
  double(field: number, v: number): this {
    this.tag(field, 1);
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, v, true);
    for (const x of new Uint8Array(b.buffer)) this.chunks.push(x);
    return this;
  }
  /** Repeated numeric fields are packed in proto3: one length-delimited run of 8-byte values. */
  packed64(field: number, values: (bigint | number)[], kind: "fixed64" | "double"): this {
    const b = new DataView(new ArrayBuffer(values.length * 8));
    values.forEach((v, i) => {
      if (kind === "double") b.setFloat64(i * 8, Number(v), true);
      else b.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v)), true);
    });
    return this.bytes(field, new Uint8Array(b.buffer));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function hrTimeToNanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(Math.round(t[1]));
}

function anyValue(v: AttributeValue | unknown): ProtoWriter | undefined {
  const w = new ProtoWriter();
  if (typeof v === "string") return w.bytes(1, new TextEncoder().encode(v));
  if (typeof v === "boolean") return w.bool(2, v);
  if (typeof v === "number") return Number.isSafeInteger(v) ? w.int64(3, v) : w.double(4, v);
  if (Array.isArray(v)) {
    const arr = new ProtoWriter();
    for (const item of v) {
      const el = anyValue(item ?? "");
      if (el) arr.message(1, el);
    }
    return w.message(5, arr);
  }
  return undefined;
}

function keyValues(w: ProtoWriter, field: number, attrs: Attributes | undefined) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null) continue;
    const v = anyValue(value);
    if (!v) continue;
    w.message(field, new ProtoWriter().string(1, key).message(2, v));
  }
}

function resource(attrs: Attributes): ProtoWriter {
  const w = new ProtoWriter();
  keyValues(w, 1, attrs);
  return w;
}

function scope(name: string, version?: string): ProtoWriter {
  return new ProtoWriter().string(1, name).string(2, version);
}

/** What the encoder needs of a span: a subset of sdk-trace-base's ReadableSpan. */
export interface EncodableSpan {
  name: string;
  kind: number;
  spanContext(): SpanContext;
  parentSpanContext?: SpanContext;
  parentSpanId?: string;
  startTime: HrTime;
  endTime: HrTime;
  attributes: Attributes;
  events: { name: string; time: HrTime; attributes?: Attributes }[];
  links: { context: SpanContext; attributes?: Attributes }[];
  status: { code: number; message?: string };
  resource: { attributes: Attributes };
  instrumentationScope: { name: string; version?: string };
}

function encodeSpan(s: EncodableSpan): ProtoWriter {
  const ctx = s.spanContext();
  const parent = s.parentSpanContext?.spanId ?? s.parentSpanId;
  const w = new ProtoWriter().bytes(1, hexBytes(ctx.traceId)).bytes(2, hexBytes(ctx.spanId)).string(3, ctx.traceState?.serialize());
  if (parent) w.bytes(4, hexBytes(parent));
  w.string(5, s.name)
    // OTLP's SpanKind is the API's plus one (0 is UNSPECIFIED).
    .uint(6, s.kind + 1)
    .fixed64(7, hrTimeToNanos(s.startTime))
    .fixed64(8, hrTimeToNanos(s.endTime));
  keyValues(w, 9, s.attributes);
  for (const e of s.events) {
    const ev = new ProtoWriter().fixed64(1, hrTimeToNanos(e.time)).string(2, e.name);
    keyValues(ev, 3, e.attributes);
    w.message(11, ev);
  }
  for (const l of s.links) {
    const lw = new ProtoWriter().bytes(1, hexBytes(l.context.traceId)).bytes(2, hexBytes(l.context.spanId));
    keyValues(lw, 4, l.attributes);
    w.message(13, lw);
  }
  const status = new ProtoWriter().string(2, s.status.message).uint(3, s.status.code);
  w.message(15, status);
  // Flags: the W3C trace flags in the low byte.
  w.fixed32(16, ctx.traceFlags & 0xff);
  return w;
}

/** ExportTraceServiceRequest: spans grouped by resource and scope. */
export function encodeTraces(spans: EncodableSpan[]): Uint8Array {
  const byResource = new Map<EncodableSpan["resource"], Map<string, EncodableSpan[]>>();
  for (const s of spans) {
    const scopes = byResource.get(s.resource) ?? new Map<string, EncodableSpan[]>();
    byResource.set(s.resource, scopes);
    const key = `${s.instrumentationScope.name}@${s.instrumentationScope.version ?? ""}`;
    scopes.set(key, [...(scopes.get(key) ?? []), s]);
  }
  const req = new ProtoWriter();
  for (const [res, scopes] of byResource) {
    const rs = new ProtoWriter().message(1, resource(res.attributes));
    for (const group of scopes.values()) {
      const ss = new ProtoWriter().message(1, scope(group[0]!.instrumentationScope.name, group[0]!.instrumentationScope.version));
      for (const s of group) ss.message(2, encodeSpan(s));
      rs.message(2, ss);
    }
    req.message(1, rs);
  }
  return req.finish();
}

/** One histogram observation or counter increment, reported as a delta; or a gauge's reading. */
export type MetricPoint =
  | {
      kind: "histogram";
      name: string;
      unit: string;
      description: string;
      value: number;
      bounds: readonly number[];
      attributes: Attributes;
      startNanos: bigint;
      timeNanos: bigint;
    }
  | {
      kind: "counter";
      name: string;
      unit: string;
      description: string;
      value: number;
      attributes: Attributes;
      startNanos: bigint;
      timeNanos: bigint;
    }
  | {
      kind: "gauge";
      name: string;
      unit: string;
      description: string;
      value: number;
      attributes: Attributes;
      timeNanos: bigint;
    };

const DELTA = 1;

function encodeMetric(m: MetricPoint): ProtoWriter {
  const w = new ProtoWriter().string(1, m.name).string(2, m.description).string(3, m.unit);
  if (m.kind === "histogram") {
    const dp = new ProtoWriter().fixed64(2, m.startNanos).fixed64(3, m.timeNanos).fixed64(4, 1n).double(5, m.value);
    const bucket = m.bounds.findIndex((b) => m.value <= b);
    const index = bucket === -1 ? m.bounds.length : bucket;
    dp.packed64(
      6,
      [...m.bounds, Infinity].map((_, i) => (i === index ? 1n : 0n)),
      "fixed64",
    );
    dp.packed64(7, [...m.bounds], "double");
    keyValues(dp, 9, m.attributes);
    dp.double(11, m.value).double(12, m.value);
    w.message(9, new ProtoWriter().message(1, dp).uint(2, DELTA));
  } else if (m.kind === "gauge") {
    // Gauge (field 5): the value now, no start time or temporality.
    const dp = new ProtoWriter().fixed64(3, m.timeNanos).double(4, m.value);
    keyValues(dp, 7, m.attributes);
    w.message(5, new ProtoWriter().message(1, dp));
  } else {
    const dp = new ProtoWriter().fixed64(2, m.startNanos).fixed64(3, m.timeNanos).double(4, m.value);
    keyValues(dp, 7, m.attributes);
    w.message(7, new ProtoWriter().message(1, dp).uint(2, DELTA).bool(3, true));
  }
  return w;
}

/** ExportMetricsServiceRequest for one resource and scope. */
export function encodeMetrics(resourceAttrs: Attributes, scopeName: string, points: MetricPoint[]): Uint8Array {
  const sm = new ProtoWriter().message(1, scope(scopeName));
  for (const p of points) sm.message(2, encodeMetric(p));
  const rm = new ProtoWriter().message(1, resource(resourceAttrs)).message(2, sm);
  return new ProtoWriter().message(1, rm).finish();
}
