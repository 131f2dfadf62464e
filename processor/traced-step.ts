/**
 * The one place that wraps a unit of work in a span: the pipeline's stages,
 * each rendition inside transcode, and the job itself (audio.pipeline.process).
 * The span is active while `fn` runs, so ffmpeg work started inside it, and
 * nested steps, are its children. A thrown error is recorded on the span
 * (exception, error status, reason and outcome attributes) and rethrown; a
 * step that ends without throwing but not well (a job that recorded its own
 * failure) says so through `failureOf` and is marked the same way. `onEnd`
 * gets the wall time and outcome, for the caller's duration metric.
 */
import { SpanStatusCode, context, trace, type Attributes, type Context, type Span, type SpanKind } from "@opentelemetry/api";
import { ATTR } from "../shared/telemetry.ts";
import { InputRejected, describeError } from "./errors.ts";

export const TRACER_NAME = "podcast-processor";

export type StepOutcome = "ok" | "rejected" | "retry";

/** Why a step that returned normally still failed. */
export interface StepFailure {
  outcome: Exclude<StepOutcome, "ok">;
  reason: string;
}

export interface StepOptions<T = unknown> {
  attributes?: Attributes;
  kind?: SpanKind;
  /** Parent context (default: the active one). */
  parent?: Context;
  /** Called when the step ends, with its wall time in seconds and outcome. */
  onEnd?: (seconds: number, outcome: StepOutcome) => void;
  /** A failure the step returned rather than threw (undefined: it went well). */
  failureOf?: (result: T) => StepFailure | undefined;
  /** Set ATTR.outcome on success too, to this value (the job's "published"); failures always set it. */
  okOutcome?: string;
  /** Also record the wall time (s) on the span under this attribute. */
  durationAttribute?: string;
}

export async function tracedStep<T>(name: string, opts: StepOptions<T>, fn: (span: Span) => Promise<T>): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  const parent = opts.parent ?? context.active();
  const span = tracer.startSpan(name, { attributes: opts.attributes, ...(opts.kind !== undefined ? { kind: opts.kind } : {}) }, parent);
  const started = performance.now();
  let outcome: StepOutcome = "ok";
  const fail = (f: StepFailure) => {
    outcome = f.outcome;
    span.setStatus({ code: SpanStatusCode.ERROR, message: f.reason });
    span.setAttributes({ [ATTR.failureReason]: f.reason, [ATTR.outcome]: f.outcome });
  };
  try {
    const result = await context.with(trace.setSpan(parent, span), () => fn(span));
    const failure = opts.failureOf?.(result);
    if (failure) fail(failure);
    else if (opts.okOutcome !== undefined) span.setAttribute(ATTR.outcome, opts.okOutcome);
    return result;
  } catch (err) {
    const message = describeError(err);
    span.recordException({ name: (err as Error)?.name ?? "Error", message });
    fail({ outcome: err instanceof InputRejected ? "rejected" : "retry", reason: message });
    throw err;
  } finally {
    const seconds = (performance.now() - started) / 1000;
    if (opts.durationAttribute) span.setAttribute(opts.durationAttribute, seconds);
    opts.onEnd?.(seconds, outcome);
    span.end();
  }
}
