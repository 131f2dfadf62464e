/**
 * POST /jobs for a `retag-chapters` job: checked against the episode record
 * and its supplied chapters, then the episode's lease (the same one a
 * pipeline run holds, so a re-tag never runs beside processing or another
 * re-tag). Answers like a pipeline job: 202 accepted (a run started), 202
 * running (another run holds the lease: it looks for newer chapters after
 * releasing it, so this job's chapters are not lost), 200 published (nothing
 * to do: the renditions already carry these chapters, or none exist yet and
 * the pipeline will embed them), 404/409 refused.
 */
import type { Context } from "@opentelemetry/api";
import type { Episode } from "../../shared/episode.ts";
import type { RetagChaptersJob } from "../../shared/job.ts";
import { keys } from "../../shared/storage-keys.ts";
import type { SuppliedChapters } from "../../shared/supplied-chapters.ts";
import type { JobDeps, JobStart } from "../job.ts";
import { acquireLease } from "../storage/lease.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { runRetag } from "./retag-renditions.ts";

/** What a re-tag would write, or undefined when the renditions are as they should be (or do not exist yet). */
export async function retagNeeded(bucket: ObjectStore, episode: Episode): Promise<SuppliedChapters | undefined> {
  if (episode.state !== "published" || !episode.renditions?.length) return undefined;
  const supplied = await bucket.getJson<SuppliedChapters>(keys.suppliedChapters(episode.podcastId, episode.episodeId));
  return supplied && supplied.revision !== episode.embeddedChapters ? supplied : undefined;
}

export async function startRetag(job: RetagChaptersJob, deps: JobDeps, parent: Context): Promise<JobStart> {
  const { episodeId } = job;
  const refuse = (status: number, reason: string): JobStart => ({ outcome: { outcome: "rejected", episodeId, reason }, status });
  const episode = await deps.bucket.getJson<Episode>(keys.episode(episodeId));
  if (!episode) return refuse(404, `no episode ${episodeId}`);
  if (episode.podcastId !== job.podcastId) return refuse(409, `episode ${episodeId} does not belong to podcast ${job.podcastId}`);
  const nothingToDo: JobStart = { outcome: { outcome: "published", episodeId }, status: 200 };
  if (!(await retagNeeded(deps.bucket, episode))) return nothingToDo;
  const held = await acquireLease(deps.bucket, episodeId, deps.leaseSeconds ?? 60, deps.maxRunSeconds);
  if (!held) return { outcome: { outcome: "running", episodeId }, status: 202 };
  return {
    outcome: { outcome: "accepted", episodeId, attempt: episode.attempts },
    status: 202,
    run: () => runRetag(job, held, deps, parent),
  };
}
