import type { RenditionId } from "./renditions.ts";
import type { StageName } from "./telemetry.ts";
import type { EpisodeDetails } from "./episode-details.ts";

/**
 * The lifecycle of an episode, as operators and creators see it:
 * uploading -> queued -> processing (stage) -> published | failed.
 */
export type EpisodeState = "uploading" | "queued" | "processing" | "published" | "failed";

export interface EpisodeFailure {
  reason: string;
  stage?: StageName;
  /** A permanent failure (bad input) is never retried; a transient one was, until attempts ran out. */
  permanent: boolean;
}

export interface PublishedRendition {
  id: RenditionId;
  /** R2 key under public/. */
  key: string;
  /** Public URL (PUBLIC_BASE_URL + /media/...). */
  url: string;
  mimeType: string;
  bytes: number;
  bitrateKbps: number;
  sampleRate: number;
  durationSeconds: number;
  /** Measured after encoding, independently of the encoder. */
  loudness?: { integratedLufs: number; truePeakDbtp: number };
}

export interface Chapter {
  startTime: number;
  title: string;
  endTime?: number;
  url?: string;
  img?: string;
}

export interface Episode {
  episodeId: string;
  podcastId: string;
  title: string;
  description?: string;
  /** The creator's file name, sanitised. */
  filename: string;
  /** Bytes declared by the upload (Upload-Length); absent while deferred. */
  size?: number;
  /** Raw upload key in R2. */
  sourceKey: string;
  state: EpisodeState;
  /** While processing: the stage running now. */
  stage?: StageName;
  failure?: EpisodeFailure;
  /** Trace of the whole journey, from audio.upload to audio.distribute. */
  traceId: string;
  /** Processing attempts so far (queue deliveries that reached the processor). */
  attempts: number;
  /** The last transient hand-off failure, kept so the dead letter handler can say why retries ran out. */
  lastRetry?: { attempt: number; reason: string; at: string };
  createdAt: string;
  updatedAt: string;
  uploadedAt?: string;
  publishedAt?: string;
  durationSeconds?: number;
  renditions?: PublishedRendition[];
  waveform?: { json: string; dat: string; image?: string };
  chapters?: { url: string; count: number };
  /** What the creator set beyond title and show notes (season, type, pubDate, transcripts...). */
  details?: EpisodeDetails;
}

export function touch(e: Episode, patch: Partial<Episode>, now = new Date()): Episode {
  return { ...e, ...patch, updatedAt: now.toISOString() };
}
