/**
 * The message the edge puts on the queue when an upload completes, and the
 * body it POSTs to the processor. Queue messages have no headers, so the W3C
 * trace context travels inside the body.
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

export interface EpisodeJob {
  version: 1;
  episodeId: string;
  podcastId: string;
  /** R2 key of the raw upload. */
  sourceKey: string;
  filename: string;
  size: number;
  title: string;
  uploadedAt: string;
  trace: TraceCarrier;
}

/**
 * The processor's answer to a dispatched job.
 *  - published: done, ack the message.
 *  - rejected:  the input can never succeed (not audio, too short...): ack, episode already marked failed.
 *  - retry:     transient (storage, killed ffmpeg): the queue redelivers with backoff.
 */
export type JobOutcome =
  | { outcome: "published"; episodeId: string }
  | { outcome: "rejected"; episodeId: string; reason: string }
  | { outcome: "retry"; episodeId: string; reason: string };

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Checks a job from the wire; throws with the first problem found. */
export function parseEpisodeJob(value: unknown): EpisodeJob {
  const v = value as Record<string, unknown> | null;
  const fail = (field: string): never => {
    throw new Error(`invalid episode job: ${field}`);
  };
  if (!v || typeof v !== "object") fail("not an object");
  if (v!.version !== 1) fail("version");
  for (const f of ["episodeId", "podcastId", "sourceKey", "filename", "title", "uploadedAt"] as const) {
    if (typeof v![f] !== "string" || (v![f] as string).length === 0) fail(f);
  }
  if (typeof v!.size !== "number" || !Number.isSafeInteger(v!.size) || (v!.size as number) < 0) fail("size");
  const trace = v!.trace as Record<string, unknown> | undefined;
  if (!trace || typeof trace.traceparent !== "string" || !TRACEPARENT.test(trace.traceparent)) fail("trace.traceparent");
  if (trace!.tracestate !== undefined && typeof trace!.tracestate !== "string") fail("trace.tracestate");
  return v as unknown as EpisodeJob;
}
