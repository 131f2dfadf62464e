/**
 * The two ways a job can fail. The distinction decides everything downstream:
 * a rejected input marks the episode failed and is never retried; anything
 * else is answered "retry" and the queue redelivers it with backoff.
 */

/** Short, low-cardinality class of a rejection: a metric attribute and a dashboard facet. */
export type RejectionCode =
  | "empty"
  | "not_audio"
  | "no_audio_stream"
  | "unsupported_codec"
  | "corrupt"
  | "truncated"
  | "too_short"
  | "too_long"
  | "silent"
  | "podcast_missing"
  | "episode_missing";

/** Bad input: the same file will fail the same way every time. */
export class InputRejected extends Error {
  readonly code: RejectionCode;
  constructor(code: RejectionCode, reason: string) {
    super(reason);
    this.name = "InputRejected";
    this.code = code;
  }
}

/** A job stopped on purpose (shutdown): transient by definition. */
export class JobAborted extends Error {
  constructor(message = "the processor is shutting down") {
    super(message);
    this.name = "JobAborted";
  }
}

/** The class of a transient failure, for metrics; the message stays on the span. */
export function transientClass(err: unknown): string {
  if (err instanceof JobAborted) return "aborted";
  const name = (err as { name?: string } | null)?.name ?? "";
  if (name === "ToolFailed") return "ffmpeg";
  if (
    /^(S3|NoSuch|AccessDenied|InvalidAccessKey|SignatureDoesNotMatch)|TimeoutError|ECONN|socket/i.test(
      name + String((err as Error)?.message),
    )
  ) {
    return "storage";
  }
  return "internal";
}

const secrets = new Set<string>();

/** Values that must never leave the process in a message (R2 secret key, OTLP headers). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** A message safe to put in an HTTP answer, a span or a log: bounded, with any known secret masked. */
export function describeError(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  for (const s of secrets) text = text.split(s).join("[redacted]");
  return text.slice(0, 500);
}
