import type { Episode, PublishedRendition } from "../episode.ts";
import { RENDITIONS } from "../renditions.ts";
import { EPISODE_TYPES, type EpisodeType, type Transcript } from "../episode-details.ts";

/**
 * What the feed knows about one published episode. The distribute stage writes
 * one per episode (keys.published) and the feed is rendered from all of them,
 * so regenerating a feed never needs the private episode records.
 */
export interface PublishedEpisode {
  episodeId: string;
  podcastId: string;
  /** Stable forever: the episode id. Changing it makes apps re-download the episode. */
  guid: string;
  title: string;
  description?: string;
  /** ISO 8601: the feed's pubDate (the creator's, when set). Later than now: scheduled, not yet in the feed. */
  publishedAt: string;
  durationSeconds: number;
  renditions: PublishedRendition[];
  /** JSON chapters (Podcasting 2.0 v1.2). */
  chapters?: { url: string; count: number };
  waveform?: { json: string; dat: string; image?: string };
  /** Defaults to the podcast's. */
  explicit?: boolean;
  episodeNumber?: number;
  season?: number;
  episodeType?: EpisodeType;
  link?: string;
  imageUrl?: string;
  transcripts?: Transcript[];
}

/** The feed entry of an episode the pipeline has just published. */
export function publishedEpisodeFrom(
  episode: Episode,
  extra: Pick<PublishedEpisode, "explicit" | "episodeNumber" | "season"> = {},
): PublishedEpisode {
  const { episodeId, podcastId, durationSeconds, renditions } = episode;
  const d = episode.details ?? {};
  // The creator's date wins (back-dated or scheduled); otherwise when the pipeline published it.
  const publishedAt = d.pubDate ?? episode.publishedAt;
  if (!publishedAt) throw new Error(`episode ${episodeId} has no publishedAt`);
  if (durationSeconds === undefined) throw new Error(`episode ${episodeId} has no duration`);
  if (!renditions || renditions.length === 0) throw new Error(`episode ${episodeId} has no renditions`);
  return parsePublishedEpisode({
    episodeId,
    podcastId,
    guid: episodeId,
    title: episode.title,
    ...(episode.description !== undefined && { description: episode.description }),
    publishedAt,
    durationSeconds,
    renditions,
    ...(episode.chapters && { chapters: episode.chapters }),
    ...(episode.waveform && { waveform: episode.waveform }),
    ...(d.explicit !== undefined && { explicit: d.explicit }),
    ...(d.episodeNumber !== undefined && { episodeNumber: d.episodeNumber }),
    ...(d.season !== undefined && { season: d.season }),
    ...(d.episodeType !== undefined && { episodeType: d.episodeType }),
    ...(d.link !== undefined && { link: d.link }),
    ...(d.imageUrl !== undefined && { imageUrl: d.imageUrl }),
    ...(d.transcripts && d.transcripts.length > 0 && { transcripts: d.transcripts }),
    ...extra,
  });
}

const RENDITION_IDS = new Set<string>(RENDITIONS.map((r) => r.id));

/**
 * Checks an entry read back from storage; throws naming the first bad field, so
 * one corrupt entry is reported precisely instead of producing a broken feed.
 */
export function parsePublishedEpisode(value: unknown): PublishedEpisode {
  const v = value as Record<string, unknown> | null;
  const where = typeof v?.episodeId === "string" ? ` ${v.episodeId}` : "";
  const fail = (field: string): never => {
    throw new Error(`invalid published episode${where}: ${field}`);
  };
  if (!v || typeof v !== "object" || Array.isArray(v)) return fail("not an object");
  for (const f of ["episodeId", "podcastId", "guid", "title", "publishedAt"] as const) {
    if (typeof v[f] !== "string" || (v[f] as string).trim() === "") fail(f);
  }
  if (Number.isNaN(Date.parse(v.publishedAt as string))) fail("publishedAt");
  if (v.description !== undefined && typeof v.description !== "string") fail("description");
  if (!isNonNegative(v.durationSeconds)) fail("durationSeconds");
  if (!Array.isArray(v.renditions) || v.renditions.length === 0) fail("renditions");
  for (const [i, r] of (v.renditions as unknown[]).entries()) {
    const rendition = r as Record<string, unknown> | null;
    if (!rendition || typeof rendition !== "object") return fail(`renditions[${i}]`);
    if (typeof rendition.id !== "string" || !RENDITION_IDS.has(rendition.id)) fail(`renditions[${i}].id`);
    for (const f of ["key", "url", "mimeType"] as const) {
      if (typeof rendition[f] !== "string" || rendition[f] === "") fail(`renditions[${i}].${f}`);
    }
    for (const f of ["bytes", "bitrateKbps", "sampleRate", "durationSeconds"] as const) {
      if (!isNonNegative(rendition[f])) fail(`renditions[${i}].${f}`);
    }
  }
  const chapters = v.chapters as Record<string, unknown> | undefined;
  if (chapters !== undefined && (typeof chapters?.url !== "string" || !isNonNegative(chapters.count))) fail("chapters");
  const waveform = v.waveform as Record<string, unknown> | undefined;
  if (waveform !== undefined && (typeof waveform?.json !== "string" || typeof waveform.dat !== "string")) fail("waveform");
  if (v.explicit !== undefined && typeof v.explicit !== "boolean") fail("explicit");
  for (const f of ["episodeNumber", "season"] as const) {
    if (v[f] !== undefined && !(Number.isSafeInteger(v[f]) && (v[f] as number) > 0)) fail(f);
  }
  if (v.episodeType !== undefined && !EPISODE_TYPES.includes(v.episodeType as EpisodeType)) fail("episodeType");
  for (const f of ["link", "imageUrl"] as const) {
    if (v[f] !== undefined && typeof v[f] !== "string") fail(f);
  }
  if (v.transcripts !== undefined) {
    if (!Array.isArray(v.transcripts)) fail("transcripts");
    (v.transcripts as Record<string, unknown>[]).forEach((t, i) => {
      if (!t || typeof t.url !== "string" || typeof t.type !== "string" || typeof t.language !== "string") fail(`transcripts[${i}]`);
    });
  }
  return v as unknown as PublishedEpisode;
}

function isNonNegative(n: unknown): n is number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}
