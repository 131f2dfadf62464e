/**
 * A re-tag run: the chapters a creator supplied after publication written
 * into every rendition by stream copy (processor/media/chapter-tags.ts): the
 * audio is never decoded, re-encoded or re-normalised, and each file's audio
 * packets are checked to be unchanged before it is published.
 *
 * Media is cached forever by URL, so the re-tagged files get new names (the
 * next generation, shared/storage-keys.ts mediaFile). The switch is: upload
 * the new files; point the episode record at them (one conditional write);
 * write its feed entry and the feed; only then delete the old files. A failure
 * before the switch deletes what it uploaded and leaves the episode as it was
 * (published, old files, old chapters in them) with a warning on the record.
 *
 * The run is its own trace, continuing the context of the edge request that
 * supplied the chapters; each step is a span through tracedStep.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { SpanKind, type Context } from "@opentelemetry/api";
import type { Episode, PublishedRendition } from "../../shared/episode.ts";
import { publishedEpisodeFrom } from "../../shared/feed/published-episode.ts";
import { writeFeed } from "../../shared/feed/write-feed.ts";
import type { RetagChaptersJob } from "../../shared/job.ts";
import { renditionSpec } from "../../shared/renditions.ts";
import { keys, mediaFile, publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import type { SuppliedChapters } from "../../shared/supplied-chapters.ts";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import { describeError } from "../errors.ts";
import type { JobDeps } from "../job.ts";
import { audioPacketsMd5Args, retagArgs } from "../media/chapter-tags.ts";
import { ffmetadataChapters } from "../media/ffmetadata.ts";
import { writeId3Comment } from "../media/id3.ts";
import { Slots } from "../media/slots.ts";
import { runFfmpeg } from "../media/tools.ts";
import { IMMUTABLE } from "../stages/distribute.ts";
import { acquireLease, type HeldLease } from "../storage/lease.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { tracedStep } from "../traced-step.ts";
import { retagNeeded } from "./start-retag.ts";

/** Chapters changed again while a run worked: it goes round at most this often before leaving the rest to the next job. */
const MAX_ROUNDS = 3;

export async function runRetag(job: RetagChaptersJob, held: HeldLease, deps: JobDeps, parent: Context): Promise<void> {
  let lease: HeldLease | undefined = held;
  for (let round = 0; lease && round < MAX_ROUNDS; round++) {
    let failed: string | undefined;
    try {
      failed = await retagWhileBehind(job.episodeId, lease, deps, parent);
    } catch (err) {
      console.error(`re-tag ${job.episodeId}: ${describeError(err)}`);
    } finally {
      await lease.release().catch(() => undefined);
    }
    // Newer chapters whose job was answered "running" while this run held the lease are picked up here
    // (not the ones that just failed: supplying them again retries).
    const episode = await deps.bucket.getJson<Episode>(keys.episode(job.episodeId)).catch(() => undefined);
    const behind = episode && (await retagNeeded(deps.bucket, episode).catch(() => undefined));
    lease =
      behind && behind.revision !== failed
        ? await acquireLease(deps.bucket, job.episodeId, deps.leaseSeconds ?? 60, deps.maxRunSeconds)
        : undefined;
  }
  if (deps.afterJob) await Promise.race([deps.afterJob(), new Promise((r) => setTimeout(r, 5000).unref())]);
}

/** Under the lease: re-tag until the renditions carry the latest supplied chapters. A failed attempt ends it: the revision that failed. */
async function retagWhileBehind(episodeId: string, held: HeldLease, deps: JobDeps, parent: Context): Promise<string | undefined> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const episode = await deps.bucket.getJson<Episode>(keys.episode(episodeId));
    const supplied = episode && (await retagNeeded(deps.bucket, episode));
    if (!episode || !supplied) return undefined;
    const ok = await tracedStep(
      SPANS.retag,
      {
        kind: SpanKind.CONSUMER,
        parent,
        attributes: {
          [ATTR.episodeId]: episode.episodeId,
          [ATTR.podcastId]: episode.podcastId,
          [ATTR.retagRenditionCount]: episode.renditions!.length,
          [ATTR.retagRevision]: supplied.revision,
          [ATTR.chapterCount]: supplied.chapters.length,
        },
      },
      (span) =>
        retagOnce(episode, supplied, held, deps).then((generation) => {
          span.setAttribute(ATTR.retagGeneration, generation);
          return true;
        }),
    ).catch(async (err) => {
      if (!held.lost.aborted) await recordFailure(deps.bucket, episode, supplied, err);
      return false;
    });
    if (!ok) return supplied.revision;
  }
  return undefined;
}

/** One re-tag of every rendition into the next generation; returns that generation. */
async function retagOnce(episode: Episode, supplied: SuppliedChapters, held: HeldLease, deps: JobDeps): Promise<number> {
  const { bucket } = deps;
  const { podcastId, episodeId } = episode;
  const signal = AbortSignal.any([deps.signal, held.lost, held.overdue]);
  const generation = (episode.mediaGeneration ?? 1) + 1;
  const old = episode.renditions!;
  const step = <T>(name: Parameters<typeof SPANS.retagStep>[0], fn: () => Promise<T>) =>
    tracedStep(SPANS.retagStep(name), { attributes: { [ATTR.retagRenditionCount]: old.length, [ATTR.retagGeneration]: generation } }, fn);
  await mkdir(deps.workDir, { recursive: true });
  const dir = await mkdtemp(path.join(deps.workDir, `${episodeId}-retag-`));
  const uploaded: string[] = [];
  let switched = false;
  try {
    const files = old.map((r) => {
      const file = mediaFile(renditionSpec(r.id).file, generation);
      return {
        rendition: r,
        spec: renditionSpec(r.id),
        file,
        input: path.join(dir, `in-${file}`),
        output: path.join(dir, file),
        key: keys.media(podcastId, episodeId, file),
      };
    });
    await step("download", () => Promise.all(files.map((f) => bucket.download(f.rendition.key, f.input, signal))));

    const chaptersFile = path.join(dir, "chapters.ffmeta");
    if (supplied.chapters.length)
      await writeFile(chaptersFile, ffmetadataChapters(supplied.chapters, episode.durationSeconds ?? Number.MAX_SAFE_INTEGER));
    const slots = new Slots(deps.ffmpegProcesses);
    const sizes = await step("rewrite", () =>
      Promise.all(
        files.map((f) =>
          slots.run(async () => {
            await runFfmpeg(deps.tools, retagArgs(f.spec, f.input, f.output, supplied.chapters, chaptersFile), { signal });
            // ffmpeg 5.1 writes an ID3 comment as TXXX: the metadata stage's COMM fix, again.
            if (f.spec.codec === "mp3" && episode.description) await writeId3Comment(f.output, episode.description);
            const [before, after] = [`${f.input}.md5`, `${f.output}.md5`];
            await runFfmpeg(deps.tools, audioPacketsMd5Args(f.input, f.output, before, after), { signal });
            if ((await readFile(before, "utf8")) !== (await readFile(after, "utf8")))
              throw new Error(`${f.file}: the audio changed while re-tagging (it must be copied as it was)`);
            return (await stat(f.output)).size;
          }),
        ),
      ),
    );

    await step("upload", () =>
      Promise.all(
        files.map(async (f) => {
          uploaded.push(f.key);
          await bucket.upload(f.key, f.output, { contentType: f.spec.mimeType, cacheControl: IMMUTABLE }, signal);
        }),
      ),
    );

    const renditions: PublishedRendition[] = files.map((f, i) => ({
      ...f.rendition,
      key: f.key,
      url: publicUrl(deps.publicBaseUrl, publicPaths.media(podcastId, episodeId, f.file)),
      bytes: sizes[i]!,
    }));
    const oldKeys = old.map((r) => r.key);
    await step("switch", async () => {
      if (held.lost.aborted) throw held.lost.reason;
      const now = new Date().toISOString();
      const next = await updateEpisode(bucket, episodeId, (current) => {
        // The renditions must still be the ones re-tagged (the lease keeps other runs out; this is the proof).
        if (current.state !== "published" || current.renditions?.map((r) => r.key).join() !== oldKeys.join()) {
          throw new Error("the episode changed during the re-tag");
        }
        const { chaptersRetag, warnings } = current;
        const rest = (warnings ?? []).filter((w) => w.kind !== "chapters");
        return {
          ...current,
          renditions,
          mediaGeneration: generation,
          embeddedChapters: supplied.revision,
          ...(chaptersRetag && chaptersRetag.revision === supplied.revision
            ? { chaptersRetag: { ...chaptersRetag, state: "done" as const, finishedAt: now } }
            : {}),
          warnings: rest.length ? rest : undefined,
          updatedAt: now,
        };
      });
      switched = true;
      await syncFeed(bucket, next, deps.publicBaseUrl);
    });

    // Only now, with the feed pointing at the new files, do the old ones go.
    await step("cleanup", () => Promise.all(oldKeys.filter((k) => !uploaded.includes(k)).map((k) => bucket.delete(k))));
    return generation;
  } catch (err) {
    // Not switched: nothing points at what was uploaded; the old files stay in use.
    if (!switched) await Promise.all(uploaded.map((k) => bucket.delete(k).catch(() => undefined)));
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The episode's feed entry from its record, then the show's feed; written again if the record changed meanwhile (an edit on the edge). */
async function syncFeed(bucket: ObjectStore, written: Episode, publicBaseUrl: string): Promise<void> {
  let record = written;
  for (let round = 0; round < 6; round++) {
    const entryKey = keys.published(record.podcastId, record.episodeId);
    if (record.state === "published" && !record.details?.unpublishedAt) await bucket.putJson(entryKey, publishedEpisodeFrom(record));
    else await bucket.delete(entryKey);
    const now = await bucket.getJson<Episode>(keys.episode(record.episodeId));
    if (!now || JSON.stringify(now) === JSON.stringify(record)) break;
    record = now;
  }
  await writeFeed(bucket, record.podcastId, publicBaseUrl);
}

/** Read-modify-write of the episode record with a conditional put, retried when someone else wrote in between. */
async function updateEpisode(bucket: ObjectStore, episodeId: string, change: (current: Episode) => Episode): Promise<Episode> {
  const key = keys.episode(episodeId);
  for (let attempt = 1; attempt <= 8; attempt++) {
    const current = await bucket.getJsonVersion<Episode>(key);
    if (!current) throw new Error(`episode ${episodeId} is gone`);
    const next = change(current.value);
    if ((await bucket.putJsonIf(key, next, { ifMatch: current.etag })) !== undefined) return next;
    await new Promise((r) => setTimeout(r, 20 * attempt * Math.random()));
  }
  throw new Error(`episode ${episodeId}: the record kept changing`);
}

/** The episode stays as it was; its record says why the renditions still carry their previous chapters. */
async function recordFailure(bucket: ObjectStore, episode: Episode, supplied: SuppliedChapters, err: unknown): Promise<void> {
  const reason = describeError(err);
  const message = `the new chapters could not be written into the audio files (${reason}); they keep their previous chapters. chapters.json and the feed have the new ones. Supply the chapters again to retry`;
  console.error(`re-tag ${episode.episodeId}: ${reason}`);
  await updateEpisode(bucket, episode.episodeId, (current) => {
    const now = new Date().toISOString();
    const rest = (current.warnings ?? []).filter((w) => w.kind !== "chapters");
    const retag = current.chaptersRetag;
    return {
      ...current,
      warnings: [...rest, { kind: "chapters", message }],
      ...(retag && retag.revision === supplied.revision
        ? { chaptersRetag: { ...retag, state: "failed" as const, finishedAt: now, reason } }
        : {}),
      updatedAt: now,
    };
  }).catch((e) => console.error(`re-tag ${episode.episodeId}: could not record the failure: ${describeError(e)}`));
}
