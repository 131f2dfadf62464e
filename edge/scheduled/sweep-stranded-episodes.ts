/**
 * Every episode reaches published or failed by itself: each minute this task
 * finds episodes left queued or processing past their deadline (a lost queue
 * message, a restarted stack, a run killed with its container) and sends
 * their job again. Re-sending is idempotent: the processor takes a job only
 * under the episode's lease, answers "already running" while a run holds it,
 * and "published" once done; runs are bounded by MAX_RUNS. Deadlines:
 * shared/episode-lifecycle.ts, README "Limits".
 */
import type { Env } from "../env.ts";
import type { Episode } from "../../shared/episode.ts";
import { DEFAULT_DEADLINES, leaseKey, resent, strandedBecause, type Lease, type SweepDeadlines } from "../../shared/episode-lifecycle.ts";
import { readRecord } from "../records.ts";
import { listEpisodeIndex } from "../episodes/index-listing.ts";
import { readEpisodeVersion, writeEpisodeIfUnchanged } from "../episodes/store.ts";
import { resendJob } from "../queue/send-job.ts";

function seconds(raw: string | undefined, fallback: number): number {
  const n = raw === undefined || raw === "" ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

export function sweepDeadlines(env: Env): SweepDeadlines {
  return {
    queuedSeconds: seconds(env.SWEEP_QUEUED_SECONDS, DEFAULT_DEADLINES.queuedSeconds),
    runBaseSeconds: seconds(env.SWEEP_RUN_BASE_SECONDS, DEFAULT_DEADLINES.runBaseSeconds),
    runSecondsPerAudioSecond: seconds(env.SWEEP_RUN_SECONDS_PER_AUDIO_SECOND, DEFAULT_DEADLINES.runSecondsPerAudioSecond),
    maxDurationSeconds: seconds(env.MAX_DURATION_SECONDS, DEFAULT_DEADLINES.maxDurationSeconds),
  };
}

export async function sweepStrandedEpisodes(env: Env, _now: Date): Promise<void> {
  const deadlines = sweepDeadlines(env);
  for await (const entry of listEpisodeIndex(env.MEDIA)) {
    // Records written before the index existed have no metadata: read those too.
    if (entry.state && entry.state !== "queued" && entry.state !== "processing") continue;
    try {
      await sweepOne(env, entry.episodeId, deadlines);
    } catch (err) {
      console.error(`sweep: episode ${entry.episodeId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

async function sweepOne(env: Env, episodeId: string, deadlines: SweepDeadlines): Promise<void> {
  const read = await readEpisodeVersion(env.MEDIA, episodeId);
  if (!read) return;
  const { episode, etag } = read;
  if (episode.state !== "queued" && episode.state !== "processing") return;
  const lease = (await readRecord<Lease>(env.MEDIA, leaseKey(episodeId))) ?? undefined;
  // Read after the records: a sweep of many episodes takes a while, and a lease is judged against now.
  const now = new Date();
  const why = strandedBecause(episode, lease, now, deadlines);
  if (!why) return;
  // Recorded first: the next sweep waits a whole queued deadline before sending again. Only over
  // the version judged: a run that wrote "processing" or "published" meanwhile is not sent back to queued.
  const next: Episode = resent(episode, now);
  if (!(await writeEpisodeIfUnchanged(env.MEDIA, next, etag))) return;
  await resendJob(env, next, why);
  console.info(`sweep: re-sent episode ${episodeId} (${why}${lease ? `; lease expired ${lease.expiresAt}` : ""})`);
}
