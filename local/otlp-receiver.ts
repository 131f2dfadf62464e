/**
 * An OTLP/HTTP receiver for tests and the demo, standing in for Honeycomb or a collector
 * (none can run here). It listens on a free port, accepts /v1/traces and
 * /v1/metrics as protobuf or JSON, decodes protobuf with the
 * opentelemetry-proto definitions that @elastic/mockotlpserver ships, and
 * exposes what arrived as plain objects. Raw bodies and headers are kept so
 * tests can check that no secret left the service.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

const require = createRequire(import.meta.url);
// Decoding only: the proto Root of the OTLP definitions, loaded from the package's .proto files.
const { getProtoRoot } = require("@elastic/mockotlpserver/lib/proto.js") as {
  getProtoRoot(): { lookupType(name: string): ProtoType };
};
interface ProtoType {
  decode(buf: Uint8Array): unknown;
  toObject(msg: unknown, opts: Record<string, unknown>): Record<string, unknown>;
}

export type SpanKindName = "UNSPECIFIED" | "INTERNAL" | "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER";
const KINDS: SpanKindName[] = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  attributes: Record<string, unknown>;
  /** Resource attribute service.name. */
  serviceName: string;
  resource: Record<string, unknown>;
  scope: string;
  /** Unix epoch nanoseconds. */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** Milliseconds, for convenience. */
  startTime: number;
  endTime: number;
  status: { code: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
}

export interface ReceivedMetricPoint {
  attributes: Record<string, unknown>;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** sum/gauge value */
  value?: number;
  /** histogram */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

/** One metric as one export request carried it. */
export interface ReceivedMetric {
  name: string;
  unit: string;
  type: "histogram" | "sum" | "gauge" | "other";
  serviceName: string;
  /** 1 delta, 2 cumulative */
  temporality?: number;
  isMonotonic?: boolean;
  points: ReceivedMetricPoint[];
}

export interface ReceivedRequest {
  path: string;
  contentType: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface OtlpReceiver {
  /** Base URL: give it as OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  metrics(): ReceivedMetric[];
  /** Every request as it arrived (raw bytes, headers): for checks such as "no secret left the service". */
  requests(): ReceivedRequest[];
  /** Resolves with the first truthy value of `predicate`, re-checked as data arrives; rejects after the timeout. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

function hex(v: unknown): string {
  if (typeof v === "string") return /^[0-9a-f]*$/i.test(v) ? v.toLowerCase() : Buffer.from(v, "base64").toString("hex");
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return "";
}

function nanos(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === "bigint") return v;
  return BigInt(String(v));
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  return Number(v);
}

function anyValue(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) {
    return (((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []) as Record<string, unknown>[]).map(anyValue);
  }
  if ("kvlistValue" in v) return attrs((v.kvlistValue as { values?: unknown[] }).values);
  if ("bytesValue" in v) return v.bytesValue;
  return undefined;
}

function attrs(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of (list as { key: string; value?: Record<string, unknown> }[] | undefined) ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

// Decoded protobuf JSON: walked field by field, checked where read.
// biome-ignore lint/suspicious/noExplicitAny: the OTLP decoder's output is untyped JSON
type Obj = Record<string, any>;

function kindName(k: unknown): SpanKindName {
  if (typeof k === "string") return (k.replace(/^SPAN_KIND_/, "") as SpanKindName) ?? "UNSPECIFIED";
  return KINDS[Number(k ?? 0)] ?? "UNSPECIFIED";
}

function spansOf(req: Obj): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const parent = hex(s.parentSpanId);
        const start = nanos(s.startTimeUnixNano);
        const end = nanos(s.endTimeUnixNano);
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          ...(parent && !/^0+$/.test(parent) ? { parentSpanId: parent } : {}),
          name: s.name,
          kind: kindName(s.kind),
          attributes: attrs(s.attributes),
          serviceName: String(resource["service.name"] ?? ""),
          resource,
          scope: ss.scope?.name ?? "",
          startTimeUnixNano: start,
          endTimeUnixNano: end,
          startTime: Number(start / 1_000_000n),
          endTime: Number(end / 1_000_000n),
          status: { code: Number(s.status?.code ?? 0), ...(s.status?.message ? { message: s.status.message } : {}) },
          events: (s.events ?? []).map((e: Obj) => ({ name: e.name, attributes: attrs(e.attributes) })),
          links: (s.links ?? []).map((l: Obj) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
        });
      }
    }
  }
  return out;
}

function metricsOf(req: Obj): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const rm of req.resourceMetrics ?? []) {
    const serviceName = String(attrs(rm.resource?.attributes)["service.name"] ?? "");
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const base = { name: m.name, unit: m.unit ?? "", serviceName };
        const times = (dp: Obj) => ({
          attributes: attrs(dp.attributes),
          startTimeUnixNano: nanos(dp.startTimeUnixNano),
          timeUnixNano: nanos(dp.timeUnixNano),
        });
        if (m.histogram) {
          out.push({
            ...base,
            type: "histogram",
            temporality: num(m.histogram.aggregationTemporality),
            points: (m.histogram.dataPoints ?? []).map((dp: Obj) => ({
              ...times(dp),
              count: num(dp.count),
              sum: num(dp.sum),
              min: num(dp.min),
              max: num(dp.max),
              bucketCounts: (dp.bucketCounts ?? []).map(Number),
              explicitBounds: (dp.explicitBounds ?? []).map(Number),
            })),
          });
        } else if (m.sum || m.gauge) {
          const data = m.sum ?? m.gauge;
          out.push({
            ...base,
            type: m.sum ? "sum" : "gauge",
            ...(m.sum ? { isMonotonic: !!m.sum.isMonotonic, temporality: num(m.sum.aggregationTemporality) } : {}),
            points: (data.dataPoints ?? []).map((dp: Obj) => ({ ...times(dp), value: num(dp.asDouble ?? dp.asInt) })),
          });
        } else {
          out.push({ ...base, type: "other", points: [] });
        }
      }
    }
  }
  return out;
}

const TYPES = {
  "/v1/traces": "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
  "/v1/metrics": "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
} as const;

function decode(path: keyof typeof TYPES, contentType: string, body: Buffer): Obj {
  if (contentType.startsWith("application/json")) return JSON.parse(body.toString("utf8"));
  const type = getProtoRoot().lookupType(TYPES[path]);
  // Longs as strings (64-bit times), enums as numbers, bytes kept as Buffers (hex() handles them).
  return type.toObject(type.decode(body), { longs: String, enums: Number, defaults: false, arrays: true });
}

/** Received traces, kept so `bin/trace` can print an episode's trace after the fact: length-prefixed OTLP protobuf bodies. */
const TRACES_FILE = "traces.otlp";

function persist(dir: string, body: Buffer): void {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  appendFileSync(join(dir, TRACES_FILE), Buffer.concat([length, body]));
}

/** Every span a receiver started with `persistDir` has received, in arrival order (none if it never ran there). */
export function readPersistedSpans(dir: string): ReceivedSpan[] {
  let data: Buffer;
  try {
    data = readFileSync(join(dir, TRACES_FILE));
  } catch {
    return [];
  }
  const spans: ReceivedSpan[] = [];
  // A body cut short by a crash mid-write ends the read; everything before it is whole.
  for (let at = 0; at + 4 <= data.length; ) {
    const length = data.readUInt32BE(at);
    if (at + 4 + length > data.length) break;
    spans.push(...spansOf(decode("/v1/traces", "application/x-protobuf", data.subarray(at + 4, at + 4 + length))));
    at += 4 + length;
  }
  return spans;
}

export async function startOtlpReceiver(opts: { port?: number; persistDir?: string } = {}): Promise<OtlpReceiver> {
  if (opts.persistDir) mkdirSync(opts.persistDir, { recursive: true });
  const waiters = new Set<() => void>();
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetric[] = [];
  const requests: ReceivedRequest[] = [];
  const receiver: OtlpReceiver = {
    endpoint: "",
    spans: () => [...spans],
    metrics: () => [...metrics],
    requests: () => [...requests],
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          let v: ReturnType<typeof predicate>;
          try {
            v = predicate();
          } catch (err) {
            cleanup();
            reject(err);
            return;
          }
          if (v) {
            cleanup();
            resolve(v);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          const names = [...new Set(spans.map((s) => s.name))].join(", ");
          const metricNames = [...new Set(metrics.map((m) => m.name))].join(", ");
          reject(
            new Error(
              `OTLP receiver: condition not met within ${timeoutMs} ms (spans so far: ${names || "none"}; metrics: ${metricNames || "none"})`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] as string;
      const contentType = String(req.headers["content-type"] ?? "");
      const body = Buffer.concat(chunks);
      requests.push({ path, contentType, headers: req.headers, body });
      if (req.method !== "POST" || !(path in TYPES)) {
        res.writeHead(404).end();
        return;
      }
      try {
        const decoded = decode(path as keyof typeof TYPES, contentType, body);
        if (path === "/v1/traces") {
          spans.push(...spansOf(decoded));
          // Protobuf as received (JSON bodies are re-read by nothing here: both services send protobuf).
          if (opts.persistDir && !contentType.startsWith("application/json")) persist(opts.persistDir, body);
        } else metrics.push(...metricsOf(decoded));
      } catch (err) {
        res.writeHead(400, { "content-type": "text/plain" }).end(`cannot decode: ${(err as Error).message}`);
        return;
      }
      const json = contentType.startsWith("application/json");
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" }).end(json ? "{}" : undefined);
      for (const w of [...waiters]) w();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  receiver.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/** Follows parentSpanId links upwards; stops at a root or at a parent that never arrived. */
export function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(spans.filter((s) => s.traceId === span.traceId).map((s) => [s.spanId, s]));
  const chain: ReceivedSpan[] = [];
  let cur: ReceivedSpan | undefined = span;
  while (cur?.parentSpanId) {
    cur = byId.get(cur.parentSpanId);
    if (!cur || chain.includes(cur)) break;
    chain.push(cur);
  }
  return chain;
}
