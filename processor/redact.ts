/**
 * The processor's spans and log lines carry creators' file names and error
 * messages, either of which can hold an upload token (a token-shaped file
 * name went out on seven spans before this). Everything it emits passes
 * through shared/secret-text.ts, with the processor's own secrets (R2 key,
 * signing secret, OTLP headers) as exact values.
 */
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { redactText } from "../shared/secret-text.ts";

const secrets: string[] = [];

export function addSecret(value: string | undefined): void {
  if (value && value.length >= 8 && !secrets.includes(value)) secrets.push(value);
}

export const redact = (text: string): string => redactText(text, secrets);

function redactValue<T>(v: T): T {
  if (typeof v === "string") return redact(v) as T;
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? redact(x) : x)) as T;
  return v;
}

function redactAttributes(attrs: Record<string, unknown> | undefined): void {
  if (!attrs) return;
  for (const k of Object.keys(attrs)) attrs[k] = redactValue(attrs[k]);
}

/**
 * First in the provider's list: it rewrites each ended span in place before
 * the exporting processors read it (the SDK's ReadableSpan is the live span
 * object; its fields are typed read-only but are plain objects).
 */
export class RedactingSpanProcessor implements SpanProcessor {
  onStart(_span: Span, _parent: Context): void {}
  onEnd(span: ReadableSpan): void {
    const s = span as unknown as {
      name: string;
      attributes: Record<string, unknown>;
      events: { name: string; attributes?: Record<string, unknown> }[];
      status: { message?: string };
      links: { attributes?: Record<string, unknown> }[];
    };
    s.name = redact(s.name);
    redactAttributes(s.attributes);
    for (const e of s.events) {
      e.name = redact(e.name);
      redactAttributes(e.attributes);
    }
    for (const l of s.links) redactAttributes(l.attributes);
    if (s.status.message) s.status.message = redact(s.status.message);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Log lines too: console output is collected by the platform and leaves the machine. */
let consoleRedacted = false;
export function redactConsole(): void {
  if (consoleRedacted) return;
  consoleRedacted = true;
  for (const level of ["log", "info", "warn", "error"] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => original(...args.map((a) => (typeof a === "string" ? redact(a) : a)));
  }
}
