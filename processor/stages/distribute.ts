/**
 * Stage 6, audio.distribute: put the episode's public files in R2, write its
 * feed entry, regenerate the podcast's feed from all entries and mark the
 * episode published. Idempotent: every key is a function of the episode, the
 * feed entry keeps its first publishedAt, and the feed is rebuilt from the
 * entries (one per episode), so a job delivered twice publishes it once.
 */
import type { Episode, PublishedRendition } from "../../shared/episode.ts";
import { publishedEpisodeFrom, type PublishedEpisode } from "../../shared/feed/published-episode.ts";
import { CHAPTERS_CONTENT_TYPE } from "../../shared/feed/rss.ts";
import { writeFeed } from "../../shared/feed/write-feed.ts";
import type { Podcast } from "../../shared/podcast.ts";
import { DEFAULT_RENDITION } from "../../shared/renditions.ts";
import { keys, publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import { ATTR } from "../../shared/telemetry.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import type { StageContext } from "./context.ts";
import { CHAPTERS_FILE, type DescribedRendition, type MetadataOutput } from "./metadata.ts";
import { WAVEFORM_FILES, type WaveformOutput } from "./waveform.ts";

export interface DistributeInput {
  bucket: ObjectStore;
  publicBaseUrl: string;
  podcast: Podcast;
  /** The episode record as it stands (state "processing"). */
  episode: Episode;
  renditions: DescribedRendition[];
  waveform: WaveformOutput;
  chaptersJson?: MetadataOutput["chaptersJson"];
  /** Revision of the creator's supplied chapters the renditions were made with (shared/supplied-chapters.ts). */
  embeddedChapters?: string;
  now?: Date;
}

export interface DistributeOutput {
  episode: Episode;
  published: PublishedEpisode;
  feedEpisodes: number;
}

/** Media never changes under its key: caches may keep it forever. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** Chapters can be edited after publication; the feed changes with every episode. */
const SHORT = "public, max-age=300";

export async function distribute(input: DistributeInput, ctx: StageContext): Promise<DistributeOutput> {
  const { bucket, podcast, episode } = input;
  const { podcastId, episodeId } = episode;
  const url = (file: string) => publicUrl(input.publicBaseUrl, publicPaths.media(podcastId, episodeId, file));
  const put = (file: string, path: string, contentType: string, cacheControl: string) =>
    bucket.upload(keys.media(podcastId, episodeId, file), path, { contentType, cacheControl }, ctx.signal);

  const uploads: (() => Promise<number>)[] = [
    ...input.renditions.map((r) => () => put(r.spec.file, r.path, r.spec.mimeType, IMMUTABLE)),
    () => put(WAVEFORM_FILES.json, input.waveform.json, "application/json", IMMUTABLE),
    () => put(WAVEFORM_FILES.dat, input.waveform.dat, "application/octet-stream", IMMUTABLE),
    () => put(WAVEFORM_FILES.svg, input.waveform.svg, "image/svg+xml", IMMUTABLE),
  ];
  if (input.chaptersJson) uploads.push(() => put(CHAPTERS_FILE, input.chaptersJson!.path, CHAPTERS_CONTENT_TYPE, SHORT));
  let uploaded = 0;
  await inPairs(uploads, async (u) => {
    uploaded += await u();
  });

  const renditions: PublishedRendition[] = input.renditions.map((r) => ({
    id: r.spec.id,
    key: keys.media(podcastId, episodeId, r.spec.file),
    url: url(r.spec.file),
    mimeType: r.spec.mimeType,
    bytes: r.bytes,
    bitrateKbps: r.spec.bitrateKbps,
    sampleRate: r.sampleRate,
    durationSeconds: round3(r.durationSeconds),
    loudness: r.loudness,
    chain: {
      ...(r.branch.limiterCeilingDb !== undefined ? { limiterCeilingDb: r.branch.limiterCeilingDb } : {}),
      extraGainDb: r.branch.extraGainDb ?? 0,
      corrected: r.corrected,
      ...(r.outputGainDb !== undefined ? { outputGainDb: r.outputGainDb } : {}),
    },
  }));
  const warnings = input.renditions.flatMap((r) =>
    r.warning ? [{ kind: "loudness" as const, rendition: r.spec.id, message: r.warning }] : [],
  );
  const main = input.renditions.find((r) => r.spec.id === DEFAULT_RENDITION) ?? input.renditions[0]!;

  // A redelivered job keeps the episode's first publication time: apps sort and notify by it.
  const previous = await bucket.getJson<unknown>(keys.published(podcastId, episodeId));
  const publishedAt =
    (previous as PublishedEpisode | undefined)?.publishedAt ?? episode.publishedAt ?? (input.now ?? new Date()).toISOString();

  const record: Episode = {
    ...episode,
    state: "published",
    stage: undefined,
    failure: undefined,
    publishedAt,
    durationSeconds: round3(main.durationSeconds),
    renditions,
    waveform: { json: url(WAVEFORM_FILES.json), dat: url(WAVEFORM_FILES.dat), image: url(WAVEFORM_FILES.svg) },
    ...(input.chaptersJson ? { chapters: { url: url(CHAPTERS_FILE), count: input.chaptersJson.count } } : {}),
    warnings: warnings.length ? warnings : undefined,
    updatedAt: (input.now ?? new Date()).toISOString(),
  };
  delete record.stage;
  delete record.failure;
  // Freshly encoded under the pipeline's own names (generation 1), with these chapters.
  delete record.mediaGeneration;
  if (input.embeddedChapters) record.embeddedChapters = input.embeddedChapters;
  else delete record.embeddedChapters;
  if (!record.warnings) delete record.warnings;
  const published = publishedEpisodeFrom(record);
  await bucket.putJson(keys.published(podcastId, episodeId), published);

  const feedEpisodes = await regenerateFeed(bucket, podcast, input.publicBaseUrl);
  await bucket.putJson(keys.episode(episodeId), record);

  ctx.span.setAttributes({
    [ATTR.storagePath]: keys.publicPrefix(podcastId, episodeId),
    [ATTR.outputSize]: uploaded,
    "audio.feed.episodes": feedEpisodes,
    [ATTR.cdnUrlCount]: uploads.length,
    [ATTR.feedUpdated]: true,
    ...(warnings.length ? { [ATTR.loudnessWarning]: warnings.map((w) => w.message).join("; ") } : {}),
  });
  return { episode: record, published, feedEpisodes };
}

/** The feed, rebuilt from the podcast record and every published entry (shared/feed/write-feed.ts). */
export async function regenerateFeed(bucket: ObjectStore, podcast: Podcast, publicBaseUrl: string): Promise<number> {
  return (await writeFeed(bucket, podcast.podcastId, publicBaseUrl)).episodes;
}

/** Runs tasks two at a time: enough to overlap request latency without flooding the link. */
async function inPairs<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all([worker(), worker()]);
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
