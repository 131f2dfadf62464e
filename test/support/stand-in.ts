/**
 * A published episode without running the processor: its record, media,
 * feed entry and index marker written into the local R2 bucket through the S3
 * endpoint, and the feed rewritten with the same shared function the
 * processor's distribute stage calls (shared/feed/write-feed.ts), so the edge
 * sees exactly what a real publication leaves behind.
 */
import type { Episode, PublishedRendition } from "../../shared/episode.ts";
import type { EpisodeDetails } from "../../shared/episode-details.ts";
import { publishedEpisodeFrom } from "../../shared/feed/published-episode.ts";
import { writeFeed } from "../../shared/feed/write-feed.ts";
import { keys, publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import { renditionSpec } from "../../shared/renditions.ts";
import { Bucket } from "../../processor/storage/bucket.ts";
import { LOCAL_S3, type LocalStack } from "../../local/stack.ts";
import { episodeIndex } from "../../shared/episode-index.ts";
import { localS3, putObject } from "./s3.ts";

export function processorBucket(stack: Pick<LocalStack, "s3Endpoint">): Bucket {
  return new Bucket({
    s3Endpoint: stack.s3Endpoint,
    bucket: LOCAL_S3.bucket,
    accessKeyId: LOCAL_S3.accessKeyId,
    secretAccessKey: LOCAL_S3.secretAccessKey,
  });
}

export interface StandIn {
  podcastId: string;
  title?: string;
  description?: string;
  details?: EpisodeDetails;
  /** The MP3 served as the enclosure (default: 4 KiB of bytes that are not audio). */
  mp3?: Uint8Array;
  createdAt?: string;
  publishedAt?: string;
  /** Default 3 s (the stand-in bytes are not audio). */
  durationSeconds?: number;
  /** Write its marker in the show's episode index, as an upload started today does. Default true. */
  indexed?: boolean;
  /** Also write the feed (as distribute does). Default true. */
  writeFeed?: boolean;
}

export async function publishStandIn(stack: Pick<LocalStack, "s3Endpoint" | "edgeUrl">, opts: StandIn): Promise<Episode> {
  const s3 = localS3(stack);
  const episodeId = crypto.randomUUID();
  const { podcastId } = opts;
  const mp3 = opts.mp3 ?? new Uint8Array(4096).map((_, i) => i & 0xff);
  const spec = renditionSpec("mp3_128k");
  const url = (file: string) => publicUrl(stack.edgeUrl, publicPaths.media(podcastId, episodeId, file));
  await putObject(s3, keys.media(podcastId, episodeId, spec.file), mp3, spec.mimeType, "public, max-age=31536000, immutable");
  await putObject(s3, keys.source(podcastId, episodeId), mp3, "audio/mpeg");
  const rendition: PublishedRendition = {
    id: "mp3_128k",
    key: keys.media(podcastId, episodeId, spec.file),
    url: url(spec.file),
    mimeType: spec.mimeType,
    bytes: mp3.length,
    bitrateKbps: 128,
    sampleRate: 44100,
    durationSeconds: opts.durationSeconds ?? 3,
  };
  const now = new Date().toISOString();
  const record: Episode = {
    episodeId,
    podcastId,
    title: opts.title ?? "A stand-in episode",
    description: opts.description ?? "Published without the processor.",
    filename: "stand-in.mp3",
    size: mp3.length,
    sourceKey: keys.source(podcastId, episodeId),
    state: "published",
    traceId: "0".repeat(32),
    attempts: 1,
    createdAt: opts.createdAt ?? now,
    updatedAt: now,
    uploadedAt: now,
    publishedAt: opts.publishedAt ?? now,
    durationSeconds: opts.durationSeconds ?? 3,
    renditions: [rendition],
    ...(opts.details ? { details: opts.details } : {}),
  };
  await putObject(s3, keys.episode(episodeId), JSON.stringify(record), "application/json");
  if (opts.indexed !== false) await putObject(s3, episodeIndex.key(podcastId, record.createdAt, episodeId), "");
  await putObject(s3, keys.published(podcastId, episodeId), JSON.stringify(publishedEpisodeFrom(record)), "application/json");
  if (opts.writeFeed !== false) await writeFeed(processorBucket(stack), podcastId, stack.edgeUrl);
  return record;
}
