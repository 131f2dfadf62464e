import type { RenditionId } from "./renditions.ts";
import type { StageName } from "./telemetry.ts";

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
  /** What the loudness chain did for this rendition: its limiter ceiling (dBFS, absent when not limited), extra gain, and whether it needed a second encode. */
  chain?: { limiterCeilingDb?: number; extraGainDb: number; corrected: boolean };
}

/** Something a creator should know about a published episode (it published anyway). */
export interface EpisodeWarning {
  kind: "loudness";
  rendition: RenditionId;
  message: string;
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
  /** Published with these caveats (a rendition that missed the loudness target after the processor's best effort). */
  warnings?: EpisodeWarning[];
}

export function touch(e: Episode, patch: Partial<Episode>, now = new Date()): Episode {
  return { ...e, ...patch, updatedAt: now.toISOString() };
}
