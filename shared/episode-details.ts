/**
 * What a creator says about an episode beyond its title and show notes:
 * the fields Apple and PSP-1 read per item. Set at upload (Upload-Metadata)
 * or later (PATCH /episodes/:id); one validator serves both, so a rule and
 * its message are the same wherever the field comes from.
 */
export type EpisodeType = "full" | "trailer" | "bonus";
export const EPISODE_TYPES: readonly EpisodeType[] = ["full", "trailer", "bonus"];

export interface Transcript {
  url: string;
  /** text/vtt or application/srt (the podcast namespace's types). */
  type: "text/vtt" | "application/srt";
  language: string;
}

export interface EpisodeDetails {
  season?: number;
  episodeNumber?: number;
  episodeType?: EpisodeType;
  /** Overrides the show's explicit flag for this episode. */
  explicit?: boolean;
  /**
   * The publication date the feed shows (ISO 8601). In the past: back-dated.
   * In the future: scheduled, the episode enters the feed when it is due.
   */
  pubDate?: string;
  link?: string;
  /** Episode artwork (itunes:image). */
  imageUrl?: string;
  transcripts?: Transcript[];
  /** Set while the creator has taken the episode out of the feed (media kept). */
  unpublishedAt?: string;
}

/** Every field a creator may set on an episode, with its rule (README "Managing a show"). */
export interface EpisodeFields extends Omit<EpisodeDetails, "transcripts" | "unpublishedAt"> {
  title?: string;
  /** Show notes: plain text or HTML. */
  description?: string;
}

export const EPISODE_LIMITS = { title: 300, descriptionBytes: 4000, url: 2048, number: 100_000 } as const;

/** Where a value came from: JSON (typed) or Upload-Metadata (every value a string). */
export type FieldSource = "json" | "metadata";

export class EpisodeFieldError extends Error {}

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/**
 * Validates the episode fields present in `input` (others are ignored by the
 * caller); `label` turns a key into what the message names (`season`,
 * `Upload-Metadata "season"`). Throws EpisodeFieldError. `null` clears a
 * field (JSON only): returned as undefined with the key present.
 */
export function parseEpisodeFields(input: Record<string, unknown>, source: FieldSource, label: (key: string) => string): EpisodeFields {
  const out: Record<string, unknown> = {};
  const fail = (key: string, rule: string): never => {
    throw new EpisodeFieldError(`${label(key)} ${rule}`);
  };
  const has = (k: string) => Object.hasOwn(input, k) && input[k] !== undefined;
  const cleared = (k: string) => source === "json" && input[k] === null;

  if (has("title")) {
    const v = input.title;
    if (typeof v !== "string" || v.trim() === "") fail("title", "must be a non-empty string");
    if ((v as string).trim().length > EPISODE_LIMITS.title) fail("title", `must be at most ${EPISODE_LIMITS.title} characters`);
    out.title = (v as string).trim();
  }
  if (has("description")) {
    if (cleared("description")) out.description = undefined;
    else {
      const v = input.description;
      if (typeof v !== "string") fail("description", "must be a string");
      if (utf8Bytes(v as string) > EPISODE_LIMITS.descriptionBytes)
        fail("description", `must be at most ${EPISODE_LIMITS.descriptionBytes} bytes (UTF-8)`);
      out.description = v;
    }
  }
  for (const key of ["season", "episodeNumber"] as const) {
    if (!has(key)) continue;
    if (cleared(key)) {
      out[key] = undefined;
      continue;
    }
    const raw = input[key];
    const n = source === "metadata" && typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > EPISODE_LIMITS.number) {
      fail(key, `must be a whole number from 1 to ${EPISODE_LIMITS.number}`);
    }
    out[key] = n;
  }
  if (has("episodeType")) {
    const v = cleared("episodeType") ? "full" : input.episodeType;
    if (typeof v !== "string" || !EPISODE_TYPES.includes(v as EpisodeType))
      fail("episodeType", `must be one of ${EPISODE_TYPES.join(", ")}`);
    out.episodeType = v;
  }
  if (has("explicit")) {
    if (cleared("explicit")) out.explicit = undefined;
    else {
      const raw = input.explicit;
      const v =
        source === "metadata" && typeof raw === "string"
          ? ({ true: true, false: false, yes: true, no: false } as Record<string, boolean>)[raw.trim().toLowerCase()]
          : raw;
      if (typeof v !== "boolean") fail("explicit", source === "metadata" ? "must be true or false" : "must be true, false or null");
      out.explicit = v;
    }
  }
  if (has("pubDate")) {
    if (cleared("pubDate")) out.pubDate = undefined;
    else {
      const v = input.pubDate;
      const ms = typeof v === "string" ? Date.parse(v) : NaN;
      if (Number.isNaN(ms)) fail("pubDate", "must be a date such as 2026-12-24T08:00:00Z (ISO 8601, or RFC 2822)");
      const year = new Date(ms).getUTCFullYear();
      if (year < 1970 || year > 9999) fail("pubDate", "must be between 1970 and 9999");
      out.pubDate = new Date(ms).toISOString();
    }
  }
  for (const key of ["link", "imageUrl"] as const) {
    if (!has(key)) continue;
    if (cleared(key)) {
      out[key] = undefined;
      continue;
    }
    const v = input[key];
    if (typeof v !== "string" || !isHttpUrl(v)) fail(key, "must be an http(s) URL");
    if ((v as string).length > EPISODE_LIMITS.url) fail(key, `must be at most ${EPISODE_LIMITS.url} characters`);
    out[key] = v;
  }
  return out as EpisodeFields;
}

export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** The date the feed shows for an episode: the creator's pubDate, else when it was published. */
export function feedDate(e: { details?: EpisodeDetails; publishedAt?: string }): string | undefined {
  return e.details?.pubDate ?? e.publishedAt;
}

/** Splits validated fields into the record's own title/description and its details. */
export function applyEpisodeFields<T extends { title: string; description?: string; details?: EpisodeDetails }>(
  record: T,
  fields: EpisodeFields,
): T {
  const { title, description, ...details } = fields;
  const next = { ...record, details: { ...record.details } } as T & { details: EpisodeDetails };
  if (title !== undefined) next.title = title;
  if ("description" in fields) {
    if (description === undefined) delete next.description;
    else next.description = description;
  }
  for (const [k, v] of Object.entries(details)) {
    if (v === undefined) delete (next.details as Record<string, unknown>)[k];
    else (next.details as Record<string, unknown>)[k] = v;
  }
  return next;
}
