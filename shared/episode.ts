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
  /** The queue gave up handing the job over (dead letter queue): an operator may re-run it. */
  deadLettered?: boolean;
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
  /**
   * What the loudness chain did for this rendition: its limiter ceiling (dBFS, absent when not limited), extra gain,
   * whether it needed a second encode, and (Opus only) the output gain set in its header instead of one.
   */
  chain?: { limiterCeilingDb?: number; extraGainDb: number; corrected: boolean; outputGainDb?: number };
}

/** Something a creator should know about a published episode (it published anyway). */
export type EpisodeWarning =
  | { kind: "loudness"; rendition: RenditionId; message: string }
  /** Chapters supplied after publication could not be written into the renditions: they keep their previous chapters. */
  | { kind: "chapters"; message: string };

/**
 * Chapters supplied after the renditions were made are written into them by a
 * re-tag run (processor/retag/): `pending` from the request until the run has
 * switched the episode to the re-tagged files (`done`) or given up (`failed`,
 * with a warning). `traceId` is the trace of the request and of the run.
 */
export interface ChaptersRetag {
  state: "pending" | "done" | "failed";
  /** Revision of the supplied chapters (shared/supplied-chapters.ts) this concerns. */
  revision: string;
  traceId: string;
  requestedAt: string;
  finishedAt?: string;
  reason?: string;
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
  /**
   * Processing runs started: counted once, by the run that took the
   * episode's lease (shared/episode-lifecycle.ts). Deliveries that found a
   * run in progress, or never reached the processor, do not count.
   */
  attempts: number;
  /**
   * The last transient failure: of a run (`attempt` = that run's number) or of
   * a hand-off to the processor (`delivery` = the queue's delivery number;
   * `attempt` = runs started so far). The dead letter handler and operators read why.
   */
  lastRetry?: { attempt: number; delivery?: number; reason: string; at: string };
  /** While processing: when the current run started (the sweep's deadline counts from here). */
  processingSince?: string;
  /** `attempts` when an operator last re-ran the episode: its runs are counted from there (MAX_RUNS). */
  attemptsAtRerun?: number;
  /** Times the sweep re-sent this episode's job because it was left queued or processing. */
  resent?: number;
  createdAt: string;
  updatedAt: string;
  uploadedAt?: string;
  publishedAt?: string;
  durationSeconds?: number;
  renditions?: PublishedRendition[];
  waveform?: { json: string; dat: string; image?: string };
  chapters?: { url: string; count: number };
  /** Revision of the creator's supplied chapters the renditions carry (absent: the upload's chapters, if any). */
  embeddedChapters?: string;
  /**
   * Generation of the renditions' file names: absent or 1 as the pipeline wrote them, +1 per re-tag
   * (shared/storage-keys.ts mediaFile), so a re-tagged file never shares a URL with one a cache may hold.
   */
  mediaGeneration?: number;
  chaptersRetag?: ChaptersRetag;
  /** What the creator set beyond title and show notes (season, type, pubDate, transcripts...). */
  details?: EpisodeDetails;
  /** Published with these caveats (a rendition that missed the loudness target after the processor's best effort). */
  warnings?: EpisodeWarning[];
}

export function touch(e: Episode, patch: Partial<Episode>, now = new Date()): Episode {
  return { ...e, ...patch, updatedAt: now.toISOString() };
}
