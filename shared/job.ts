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
 * The processor's answer to a dispatched job. The run happens after the
 * answer: its end is written to the episode record, not sent back.
 *  - accepted:  202, a run started (it took the episode's lease): ack.
 *  - running:   202, a run of this episode is already in progress: ack, no work.
 *  - published: 200, already published (a duplicate delivery): ack.
 *  - rejected:  4xx, can never succeed as sent (bad signature, unknown or
 *               incomplete episode, another show's ids): ack, never retried.
 *  - retry:     503, the processor cannot start it now (shutting down,
 *               storage unreachable): the queue redelivers with backoff.
 */
export type JobOutcome =
  | { outcome: "accepted"; episodeId: string; attempt: number }
  | { outcome: "running"; episodeId: string }
  | { outcome: "published"; episodeId: string }
  | { outcome: "rejected"; episodeId: string; reason: string }
  | { outcome: "retry"; episodeId: string; reason: string };

/** HTTP status of each outcome (rejected: 422 unless a more specific 4xx applies). */
export const OUTCOME_STATUS: Record<JobOutcome["outcome"], number> = {
  accepted: 202,
  running: 202,
  published: 200,
  rejected: 422,
  retry: 503,
};

/** Reads the processor's answer body; undefined when it is not a JobOutcome (the caller goes by status). */
export function parseJobOutcome(value: unknown): JobOutcome | undefined {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== "object" || typeof v.episodeId !== "string") return undefined;
  const reason = typeof v.reason === "string" ? v.reason.slice(0, 500) : undefined;
  switch (v.outcome) {
    case "accepted":
      return { outcome: "accepted", episodeId: v.episodeId, attempt: typeof v.attempt === "number" ? v.attempt : 0 };
    case "running":
    case "published":
      return { outcome: v.outcome, episodeId: v.episodeId };
    case "rejected":
    case "retry":
      return reason ? { outcome: v.outcome, episodeId: v.episodeId, reason } : undefined;
    default:
      return undefined;
  }
}

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
  // Ids end up in storage keys: the same rule as shared/storage-keys.ts, checked here so a bad one is a 400, not a crash.
  for (const f of ["episodeId", "podcastId"] as const) if (!/^[A-Za-z0-9_-]{1,64}$/.test(v![f] as string)) fail(f);
  if (typeof v!.size !== "number" || !Number.isSafeInteger(v!.size) || (v!.size as number) < 0) fail("size");
  const trace = v!.trace as Record<string, unknown> | undefined;
  if (!trace || typeof trace.traceparent !== "string" || !TRACEPARENT.test(trace.traceparent)) fail("trace.traceparent");
  if (trace!.tracestate !== undefined && typeof trace!.tracestate !== "string") fail("trace.tracestate");
  return v as unknown as EpisodeJob;
}

/**
 * Rewrite the chapters embedded in an episode's renditions to match the
 * chapters its creator supplied (keys.suppliedChapters), by stream copy: no
 * re-encode. Sent by the edge when chapters change on an episode whose
 * renditions exist; like EpisodeJob it names only the episode, and the
 * processor reads everything else from storage.
 */
export interface RetagChaptersJob {
  version: 1;
  kind: "retag-chapters";
  episodeId: string;
  podcastId: string;
  trace: TraceCarrier;
}

/** Anything POST /jobs takes. An EpisodeJob has no `kind` (it predates the others). */
export type ProcessorJob = EpisodeJob | RetagChaptersJob;

export function isRetagChaptersJob(job: unknown): job is RetagChaptersJob {
  return !!job && typeof job === "object" && (job as { kind?: unknown }).kind === "retag-chapters";
}

/** Checks any job from the wire: by its kind; throws with the first problem found. */
export function parseProcessorJob(value: unknown): ProcessorJob {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== "object" || v.kind === undefined) return parseEpisodeJob(value);
  const fail = (field: string): never => {
    throw new Error(`invalid ${String(v.kind)} job: ${field}`);
  };
  if (v.kind !== "retag-chapters") throw new Error(`invalid job: unknown kind ${JSON.stringify(v.kind).slice(0, 40)}`);
  if (v.version !== 1) fail("version");
  for (const f of ["episodeId", "podcastId"] as const)
    if (typeof v[f] !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(v[f] as string)) fail(f);
  const trace = v.trace as Record<string, unknown> | undefined;
  if (!trace || typeof trace.traceparent !== "string" || !TRACEPARENT.test(trace.traceparent)) fail("trace.traceparent");
  if (trace!.tracestate !== undefined && typeof trace!.tracestate !== "string") fail("trace.tracestate");
  return {
    version: 1,
    kind: "retag-chapters",
    episodeId: v.episodeId as string,
    podcastId: v.podcastId as string,
    trace: trace as unknown as TraceCarrier,
  };
}
