/**
 * Keeps secrets out of exported telemetry. otel-cf-workers records request
 * URLs (url.full, url.query), exception messages and stacks; any of them can
 * carry a token. Every span passes through here before it is encoded.
 */
import type { AttributeValue, Attributes } from "@opentelemetry/api";
import type { EncodableSpan } from "./otlp-proto.ts";

const REDACTED = "[REDACTED]";
const SECRET_KEY = /authorization|cookie|token|secret|password|api[-_.]?key|credential|signature/i;
const SECRET_QUERY = /^(token|access_token|key|api_key|apikey|secret|signature|sig|password|auth|x-amz-signature|x-amz-credential|x-amz-security-token)$/i;
const PATTERNS: [RegExp, string][] = [
  // Upload tokens (shared/podcast.ts): keep the podcast id, drop the secret.
  [/\b(pp_[A-Za-z0-9-]{1,64}_)[A-Za-z0-9_-]{8,}/g, `$1${REDACTED}`],
  [/\b(Bearer|Basic)\s+[^\s,;"']+/gi, `$1 ${REDACTED}`],
];

export class Redactor {
  private readonly secrets: string[];

  /** `secrets`: exact values never to appear (the admin token, OTLP header values). */
  constructor(secrets: (string | undefined)[]) {
    // Short values would redact ordinary words; secrets are long.
    this.secrets = secrets.filter((s): s is string => typeof s === "string" && s.length >= 8);
  }

  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
    return this.query(out);
  }

  /** Drops the values of query parameters that look like credentials, in any URL inside the text. */
  private query(s: string): string {
    if (!s.includes("?") && !s.includes("&")) return s;
    return s.replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (all, sep: string, name: string) =>
      SECRET_QUERY.test(name) ? `${sep}${name}=${REDACTED}` : all,
    );
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
