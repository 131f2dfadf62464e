/**
 * Every transition of the episode record, in one place both services use:
 *
 *   uploading -> queued -> processing(stage) -> published | failed
 *                  ^            |
 *                  +------------+  a run that failed transiently, a lost run the sweep re-sends
 *
 * The edge writes uploading, queued, hand-off retries, dead letters, sweeps
 * and operator re-runs; the processor's run writes processing, its stages and
 * its end. Functions here are pure: callers read, transition, write.
 *
 * `attempts` has one meaning: processing runs started, counted by
 * `runStarted` (called once by the run that took the episode's lease).
 */
import type { Episode, EpisodeFailure } from "./episode.ts";
import { assertId } from "./storage-keys.ts";
import type { StageName } from "./telemetry.ts";

/** Runs an episode gets (since its upload or an operator's re-run) before a transient failure becomes final. */
export const MAX_RUNS = 6;

const iso = (now: Date) => now.toISOString();

function touch(e: Episode, patch: Partial<Episode>, now: Date): Episode {
  const next: Episode = { ...e, ...patch, updatedAt: iso(now) };
  // Absent, not undefined: records stay small and JSON round-trips compare equal.
  for (const k of Object.keys(next) as (keyof Episode)[]) if (next[k] === undefined) delete next[k];
  return next;
}

export const isSettled = (e: Episode) => e.state === "published" || e.state === "failed";

/** The source is complete in R2: the edge recorded the upload's last byte. */
export const uploadIsComplete = (e: Episode) => e.state !== "uploading" && typeof e.uploadedAt === "string";

/** Runs since the upload, or since the operator's last re-run. */
export const runsInBudget = (e: Episode) => e.attempts - (e.attemptsAtRerun ?? 0);

/** Failure is final: no more transitions but an operator's re-run. */
export function failed(e: Episode, failure: EpisodeFailure, now = new Date()): Episode {
  return touch(e, { state: "failed", stage: failure.stage, failure, processingSince: undefined }, now);
}

/** The upload's last byte is stored: the job is (about to be) on the queue. */
export function queued(e: Episode, upload: { size: number; uploadedAt: string }, now = new Date()): Episode {
  return touch(e, { state: "queued", size: upload.size, uploadedAt: upload.uploadedAt, failure: undefined }, now);
}

/** A run took the episode's lease: the one place `attempts` grows. */
export function runStarted(e: Episode, now = new Date()): Episode {
  return touch(
    e,
    { state: "processing", stage: undefined, failure: undefined, attempts: (e.attempts ?? 0) + 1, processingSince: iso(now) },
    now,
  );
}

export function stageStarted(e: Episode, stage: StageName, now = new Date()): Episode {
  return touch(e, { state: "processing", stage }, now);
}

/** Bad input: the same file would fail the same way again. */
export function rejected(e: Episode, reason: string, stage: StageName | undefined, now = new Date()): Episode {
  return failed(e, { reason, ...(stage ? { stage } : {}), permanent: true }, now);
}

/**
 * A run failed for a transient reason (storage, a killed ffmpeg, shutdown):
 * back to queued for the sweep to re-send, or failed once the runs are used up.
 */
export function runFailed(e: Episode, reason: string, stage: StageName | undefined, now = new Date()): Episode {
  if (runsInBudget(e) >= MAX_RUNS) {
    return failed(
      e,
      { reason: `processing failed after ${runsInBudget(e)} runs: ${reason}`, ...(stage ? { stage } : {}), permanent: false },
      now,
    );
  }
  return touch(
    e,
    { state: "queued", stage: undefined, processingSince: undefined, lastRetry: { attempt: e.attempts, reason, at: iso(now) } },
    now,
  );
}

/** The consumer could not hand the job over (processor down, 5xx): the queue redelivers it. */
export function handoffFailed(e: Episode, delivery: number, reason: string, now = new Date()): Episode {
  const waiting = isSettled(e) || e.state === "processing" ? {} : { state: "queued" as const, stage: undefined };
  return touch(e, { ...waiting, lastRetry: { attempt: e.attempts, delivery, reason, at: iso(now) } }, now);
}

/** The queue gave up on the hand-off (max_retries): failed, not permanently (the input may be fine). */
export function deadLettered(e: Episode, deliveries: number | undefined, now = new Date()): Episode {
  const last = e.lastRetry;
  const count = deliveries ?? last?.delivery;
  const reason = `could not hand the job to the processor${count ? ` in ${count} deliveries` : ""}${last?.reason ? `: ${last.reason}` : ""}`;
  return failed(e, { reason, permanent: false, deadLettered: true }, now);
}

/** The sweep found the episode left queued or processing past its deadline and sent its job again. */
export function resent(e: Episode, now = new Date()): Episode {
  return touch(e, { state: "queued", stage: undefined, processingSince: undefined, resent: (e.resent ?? 0) + 1 }, now);
}

/** An operator re-runs a failed episode from its stored source: a fresh budget of MAX_RUNS. */
export function rerun(e: Episode, now = new Date()): Episode {
  return touch(e, { state: "queued", stage: undefined, failure: undefined, lastRetry: undefined, attemptsAtRerun: e.attempts }, now);
}

// ---- Deadlines: when the sweep considers an unfinished episode lost ------------------------------

/** A run that failed transiently is sent again after 30 s, 60 s, 120 s... (at most the queued deadline). */
export const RUN_RETRY_BASE_SECONDS = 30;

export interface SweepDeadlines {
  /** A queued episode untouched this long is re-sent (covers the queue's own retries: 30+60+120+240+480 s). */
  queuedSeconds: number;
  /** A run may take this long plus `runSecondsPerAudioSecond` x the episode's duration. */
  runBaseSeconds: number;
  runSecondsPerAudioSecond: number;
  /** Duration assumed while the episode's own is not known yet (the processor's MAX_DURATION_SECONDS). */
  maxDurationSeconds: number;
}

/**
 * Defaults, from the bench (README "Limits"): an hour of speech costs ~450-900
 * CPU s, i.e. 0.125-0.25 s per audio second on standard-2's one vCPU; 0.5 s
 * per audio second is twice the slower figure.
 */
export const DEFAULT_DEADLINES: SweepDeadlines = {
  queuedSeconds: 20 * 60,
  runBaseSeconds: 10 * 60,
  runSecondsPerAudioSecond: 0.5,
  maxDurationSeconds: 4 * 3600,
};

/** Longest a run of this episode may take before the sweep treats it as lost even with a live lease. */
export function runDeadlineSeconds(e: Episode, d: SweepDeadlines): number {
  return d.runBaseSeconds + d.runSecondsPerAudioSecond * (e.durationSeconds ?? d.maxDurationSeconds);
}

/** Why the sweep should re-send this episode's job now, or undefined if it is fine. */
export function strandedBecause(e: Episode, lease: Lease | undefined, now: Date, d: SweepDeadlines): string | undefined {
  const age = (since: string | undefined) => (now.getTime() - Date.parse(since ?? e.updatedAt)) / 1000;
  if (e.state === "queued") {
    // Back from a run that failed transiently: nothing else will send it, so it waits only a backoff.
    const afterRun = e.lastRetry && e.lastRetry.delivery === undefined;
    const wait = afterRun ? Math.min(d.queuedSeconds, RUN_RETRY_BASE_SECONDS * 2 ** Math.max(0, runsInBudget(e) - 1)) : d.queuedSeconds;
    return age(e.updatedAt) > wait ? `queued for ${Math.round(age(e.updatedAt))} s` : undefined;
  }
  if (e.state !== "processing") return undefined;
  if (!lease || leaseExpired(lease, now)) {
    // The run's heartbeat stopped (crash, kill -9, lost container); a fresh record may not have its lease yet.
    return age(e.updatedAt) > 5 ? `processing ${e.stage ?? ""} with no live run`.replace("  ", " ") : undefined;
  }
  const limit = runDeadlineSeconds(e, d);
  return age(e.processingSince) > limit ? `processing for more than ${Math.round(limit)} s` : undefined;
}

// ---- The run's lease: one run per episode at a time ----------------------------------------------

/**
 * Held by the processor's run, renewed by its heartbeat, written with R2
 * conditional requests (create-only, or replace-if-unchanged) so that of two
 * concurrent deliveries exactly one wins. A crashed run stops renewing it and
 * it expires.
 */
export interface Lease {
  episodeId: string;
  runId: string;
  startedAt: string;
  renewedAt: string;
  expiresAt: string;
}

export const leaseKey = (episodeId: string) => `state/leases/${assertId("episode", episodeId)}.json`;

export const leaseExpired = (l: Lease, now: Date) => Date.parse(l.expiresAt) <= now.getTime();

// ---- Index metadata: lets the sweep and operators list by state without reading every record -----

/** Stored as the episode record object's custom metadata (R2 customMetadata / S3 x-amz-meta-*). */
export function episodeIndex(e: Episode): Record<string, string> {
  return { state: e.state, podcastid: e.podcastId, updatedat: e.updatedAt };
}
