/**
 * The one place that wraps a unit of work in a span: the pipeline's stages,
 * each rendition inside transcode, and (through the same function) the job
 * itself. The span is active while `fn` runs, so ffmpeg work started inside
 * it, and nested steps, are its children. A thrown error is recorded on the
 * span (exception, error status, reason and outcome attributes) and rethrown;
 * `onEnd` gets the wall time and outcome, for the caller's duration metric.
 */
import { SpanStatusCode, context, trace, type Attributes, type Context, type Span, type SpanKind } from "@opentelemetry/api";
import { ATTR } from "../shared/telemetry.ts";
import { InputRejected, describeError } from "./errors.ts";

export const TRACER_NAME = "podcast-processor";

export type StepOutcome = "ok" | "rejected" | "retry";

export interface StepOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** Parent context (default: the active one). */
  parent?: Context;
  /** Called when the step ends, with its wall time in seconds and outcome. */
  onEnd?: (seconds: number, outcome: StepOutcome) => void;
}

export async function tracedStep<T>(name: string, opts: StepOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  const parent = opts.parent ?? context.active();
  const span = tracer.startSpan(name, { attributes: opts.attributes, ...(opts.kind !== undefined ? { kind: opts.kind } : {}) }, parent);
  const started = performance.now();
  let outcome: StepOutcome = "ok";
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    outcome = err instanceof InputRejected ? "rejected" : "retry";
    const message = describeError(err);
    span.recordException({ name: (err as Error)?.name ?? "Error", message });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    span.setAttributes({ [ATTR.failureReason]: message, [ATTR.outcome]: outcome });
    throw err;
  } finally {
    opts.onEnd?.((performance.now() - started) / 1000, outcome);
    span.end();
  }
}
