/**
 * The seam between the upload protocol (edge/upload) and the episode's life
 * after it: the EpisodeUpload Durable Object calls `uploadStarted` once when
 * an upload is created and `uploadCompleted` exactly once when its last byte
 * is stored. Implementations live in ./lifecycle.ts.
 */
import type { EpisodeDetails } from "../../shared/episode-details.ts";

/** Ids of the root span `audio.upload`, fixed when the upload is created so every later request can join its trace. */
export interface UploadTrace {
  traceId: string;
  spanId: string;
}

export interface UploadStarted {
  episodeId: string;
  podcastId: string;
  title: string;
  description?: string;
  /** Feed fields from Upload-Metadata (season, pubDate...). */
  details?: EpisodeDetails;
  filename: string;
  /** Upload-Length, unless deferred. */
  size?: number;
  sourceKey: string;
  createdAt: string;
  trace: UploadTrace;
}

export interface UploadCompleted extends UploadStarted {
  size: number;
  completedAt: string;
}

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

export function newUploadTrace(): UploadTrace {
  return { traceId: randomHex(16), spanId: randomHex(8) };
}
