/**
 * Keeps secrets out of exported telemetry. otel-cf-workers records request
 * URLs (url.full, url.query), exception messages and stacks; any of them can
 * carry a token. Every span passes through here before it is encoded.
 */
import type { AttributeValue, Attributes } from "@opentelemetry/api";
import { REDACTED, redactText } from "../../shared/secret-text.ts";
import type { EncodableSpan } from "./otlp-proto.ts";

const SECRET_KEY = /authorization|cookie|token|secret|password|api[-_.]?key|credential|signature/i;

export class Redactor {
  private readonly secrets: string[];

  /** `secrets`: exact values never to appear (the admin token, OTLP header values). */
  constructor(secrets: (string | undefined)[]) {
    // Short values would redact ordinary words; secrets are long.
    this.secrets = secrets.filter((s): s is string => typeof s === "string" && s.length >= 8);
  }

  text(s: string): string {
    return redactText(s, this.secrets);
  }

  value(key: string, v: AttributeValue | undefined): AttributeValue | undefined {
    if (v === undefined || v === null) return v;
    if (SECRET_KEY.test(key) && !key.startsWith("audio.")) return REDACTED;
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? this.text(x) : x)) as AttributeValue;
    return v;
  }

  attributes(attrs: Attributes | undefined): Attributes {
    const out: Attributes = {};
    for (const [k, v] of Object.entries(attrs ?? {})) out[k] = this.value(k, v);
    return out;
  }

  span(s: EncodableSpan): EncodableSpan {
    return {
      name: this.text(s.name),
      kind: s.kind,
      spanContext: () => s.spanContext(),
      parentSpanContext: s.parentSpanContext,
      parentSpanId: s.parentSpanId,
      startTime: s.startTime,
      endTime: s.endTime,
      attributes: this.attributes(s.attributes),
      events: s.events.map((e) => ({ name: this.text(e.name), time: e.time, attributes: this.attributes(e.attributes) })),
      links: s.links.map((l) => ({ context: l.context, attributes: this.attributes(l.attributes) })),
      status: { code: s.status.code, ...(s.status.message ? { message: this.text(s.status.message) } : {}) },
      resource: s.resource,
      instrumentationScope: s.instrumentationScope,
    };
  }
}
