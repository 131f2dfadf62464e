/** What `GET /episodes/:id` shows: the record minus internals, renditions only once published. */
import type { Episode, EpisodeFailure, EpisodeWarning } from "../../shared/episode.ts";
import type { StageName } from "../../shared/telemetry.ts";
import type { HoneycombLinks } from "./honeycomb-links.ts";

export interface UploadProgress {
  bytesReceived: number;
  /** Absent while the length is deferred. */
  totalBytes?: number;
}

export interface EpisodeStatus {
  episodeId: string;
  podcastId: string;
  title: string;
  state: Episode["state"];
  stage?: StageName;
  failure?: EpisodeFailure;
  traceId: string;
  /** The trace and the episode's spans in Honeycomb, when the Worker knows its team and environment. */
  links?: HoneycombLinks;
  attempts: number;
  lastRetry?: Episode["lastRetry"];
  filename: string;
  size?: number;
  createdAt: string;
  updatedAt: string;
  uploadedAt?: string;
  publishedAt?: string;
  durationSeconds?: number;
  upload?: UploadProgress;
  renditions?: { id: string; url: string; mimeType: string; bytes: number; bitrateKbps: number }[];
  /** Published with caveats, e.g. a rendition that missed the loudness target. */
  warnings?: EpisodeWarning[];
}

export function episodeStatus(e: Episode, upload?: UploadProgress, links?: HoneycombLinks): EpisodeStatus {
  const published = e.state === "published";
  return {
    episodeId: e.episodeId,
    podcastId: e.podcastId,
    title: e.title,
    state: e.state,
    ...(e.state === "processing" && e.stage ? { stage: e.stage } : {}),
    ...(e.state === "failed" && e.failure ? { failure: e.failure } : {}),
    traceId: e.traceId,
    ...(links ? { links } : {}),
    attempts: e.attempts,
    ...(e.lastRetry && !published ? { lastRetry: e.lastRetry } : {}),
    filename: e.filename,
    ...(e.size !== undefined ? { size: e.size } : {}),
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    ...(e.uploadedAt ? { uploadedAt: e.uploadedAt } : {}),
    ...(e.publishedAt ? { publishedAt: e.publishedAt } : {}),
    ...(e.durationSeconds !== undefined ? { durationSeconds: e.durationSeconds } : {}),
    ...(upload ? { upload } : {}),
    ...(published && e.renditions
      ? {
          renditions: e.renditions.map((r) => ({ id: r.id, url: r.url, mimeType: r.mimeType, bytes: r.bytes, bitrateKbps: r.bitrateKbps })),
        }
      : {}),
    ...(published && e.warnings?.length ? { warnings: e.warnings } : {}),
  };
}
