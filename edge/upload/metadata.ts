/**
 * Upload-Metadata: comma-separated `key base64(value)` pairs (tus 1.0
 * creation). An episode needs a title and the file's name; a description
 * (show notes), the browser's idea of the file type and the episode's feed
 * fields (season, episodeNumber, episodeType, explicit, pubDate, link,
 * imageUrl: the same rules as PATCH /episodes/:id) are optional. Other keys
 * (Uppy sends name, type, relativePath) are accepted and ignored, within bounds.
 */
import { EpisodeFieldError, parseEpisodeFields, type EpisodeDetails } from "../../shared/episode-details.ts";

export interface UploadMetadata {
  title: string;
  /** The creator's file name, reduced to a safe base name (never used in storage keys). */
  filename: string;
  description?: string;
  /** MIME type the client reported; informational, the bytes are sniffed. */
  filetype?: string;
  /** Feed fields set at upload time. */
  details?: EpisodeDetails;
}

/** The episode's feed fields a creator may send in Upload-Metadata (values as text: "2", "true", an ISO date). */
export const EPISODE_METADATA_KEYS = ["season", "episodeNumber", "episodeType", "explicit", "pubDate", "link", "imageUrl"] as const;

export const METADATA_LIMITS = {
  headerChars: 16_384,
  pairs: 32,
  title: 300,
  description: 4000,
  filename: 255,
  filetype: 100,
} as const;

const KEY = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// Control characters (C0, DEL, C1) and bidi overrides have no place in a title or file name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export class MetadataError extends Error {}

function decodeValue(key: string, encoded: string): string {
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw new MetadataError(`Upload-Metadata value of "${key}" is not valid base64`);
  }
  const bytes = Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new MetadataError(`Upload-Metadata value of "${key}" is not UTF-8 text`);
  }
}

/** Splits the header into decoded pairs; throws MetadataError naming the bad part. */
export function decodeUploadMetadata(header: string): Map<string, string> {
  if (header.length > METADATA_LIMITS.headerChars) {
    throw new MetadataError(`Upload-Metadata must be at most ${METADATA_LIMITS.headerChars} characters`);
  }
  const pairs = new Map<string, string>();
  for (const raw of header.split(",")) {
    const pair = raw.trim();
    if (pair === "") continue;
    const [key, value, ...rest] = pair.split(" ");
    if (!key || !KEY.test(key) || rest.length > 0) {
      throw new MetadataError(`Upload-Metadata pair "${pair.slice(0, 40)}" must be a key, a space and a base64 value`);
    }
    if (pairs.has(key)) throw new MetadataError(`Upload-Metadata key "${key}" appears twice`);
    pairs.set(key, value === undefined ? "" : decodeValue(key, value));
    if (pairs.size > METADATA_LIMITS.pairs) throw new MetadataError(`Upload-Metadata may have at most ${METADATA_LIMITS.pairs} keys`);
  }
  return pairs;
}

/**
 * The base name of what the client called the file: no directories (either
 * slash), no control or reserved characters, no leading dots. It is stored in
 * the episode record only; storage keys are built from ids.
 */
export function sanitiseFilename(name: string): string {
  const base = name.normalize("NFC").split(/[/\\]/).pop() ?? "";
  return base
    .replace(CONTROL, "")
    .replace(/[<>:"|?*]/g, "_")
    .trim()
    .replace(/^\.+/, "")
    .trim();
}

function text(pairs: Map<string, string>, key: string, max: number, required: boolean): string | undefined {
  const value = pairs.get(key)?.replace(CONTROL, " ").trim();
  if (value === undefined || value === "") {
    if (required) throw new MetadataError(`Upload-Metadata "${key}" is required`);
    return undefined;
  }
  if (key === "description" ? new TextEncoder().encode(value).length > max : value.length > max) {
    throw new MetadataError(`Upload-Metadata "${key}" must be at most ${max} ${key === "description" ? "bytes (UTF-8)" : "characters"}`);
  }
  return value;
}

/** Validates an episode upload's metadata; throws MetadataError with a message naming the field. */
export function parseUploadMetadata(header: string | null): UploadMetadata {
  if (header === null || header.trim() === "") {
    throw new MetadataError('Upload-Metadata is required, with at least "title" and "filename" (values base64-encoded)');
  }
  const pairs = decodeUploadMetadata(header);
  const title = text(pairs, "title", METADATA_LIMITS.title, true)!;
  const rawName = pairs.get("filename");
  if (rawName === undefined || rawName.trim() === "") throw new MetadataError('Upload-Metadata "filename" is required');
  const filename = sanitiseFilename(rawName);
  if (filename === "") throw new MetadataError('Upload-Metadata "filename" does not name a file');
  if (filename.length > METADATA_LIMITS.filename) {
    throw new MetadataError(`Upload-Metadata "filename" must be at most ${METADATA_LIMITS.filename} characters`);
  }
  const description = text(pairs, "description", METADATA_LIMITS.description, false);
  const filetype = text(pairs, "filetype", METADATA_LIMITS.filetype, false);
  if (filetype !== undefined && !/^[A-Za-z0-9][\w.+-]*\/[\w.+-]+$/.test(filetype)) {
    throw new MetadataError('Upload-Metadata "filetype" must be a MIME type such as audio/wav');
  }
  const details = episodeDetails(pairs);
  return { title, filename, ...(description ? { description } : {}), ...(filetype ? { filetype } : {}), ...(details ? { details } : {}) };
}

function episodeDetails(pairs: Map<string, string>): EpisodeDetails | undefined {
  const given: Record<string, string> = {};
  for (const key of EPISODE_METADATA_KEYS) {
    const value = pairs.get(key)?.trim();
    if (value !== undefined && value !== "") given[key] = value;
  }
  if (Object.keys(given).length === 0) return undefined;
  try {
    return parseEpisodeFields(given, "metadata", (key) => `Upload-Metadata "${key}"`) as EpisodeDetails;
  } catch (err) {
    if (err instanceof EpisodeFieldError) throw new MetadataError(err.message);
    throw err;
  }
}
