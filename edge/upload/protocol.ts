/**
 * tus 1.0.0 vocabulary shared by the Worker routes and the EpisodeUpload
 * Durable Object: versions, extensions, header names and response helpers.
 * https://tus.io/protocols/resumable-upload
 */

export const TUS_VERSION = "1.0.0";
export const TUS_EXTENSIONS = [
  "creation",
  "creation-with-upload",
  "creation-defer-length",
  "expiration",
  "termination",
  "checksum",
] as const;
export const OFFSET_CONTENT_TYPE = "application/offset+octet-stream";

/** tus's own status for a chunk whose Upload-Checksum does not match. */
export const CHECKSUM_MISMATCH = 460;

/** Headers a browser may send on upload requests. */
export const TUS_REQUEST_HEADERS = [
  "Authorization",
  "Content-Type",
  "Tus-Resumable",
  "Upload-Length",
  "Upload-Defer-Length",
  "Upload-Metadata",
  "Upload-Offset",
  "Upload-Checksum",
  "X-HTTP-Method-Override",
  "X-Requested-With",
] as const;

/** Response headers a browser client must be able to read. */
export const TUS_RESPONSE_HEADERS = [
  "Location",
  "Episode-Id",
  "Tus-Resumable",
  "Tus-Version",
  "Tus-Extension",
  "Tus-Max-Size",
  "Tus-Checksum-Algorithm",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Defer-Length",
  "Upload-Metadata",
  "Upload-Expires",
] as const;

/**
 * Set by the Worker on requests it forwards to the Durable Object, after
 * authenticating the upload token; any client-sent value is overwritten.
 */
export const PODCAST_HEADER = "X-Authenticated-Podcast";

/** Upload-Expires and other dates: RFC 9110 IMF-fixdate. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Every tus response but OPTIONS carries Tus-Resumable; uploads are never cached. */
export function tusResponse(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, {
    status,
    headers: { "Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", ...headers },
  });
}

/** An error with a message for people (JSON, like the rest of the edge API). */
export function tusError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: {
      "Tus-Resumable": TUS_VERSION,
      "Cache-Control": "no-store",
      "Content-Type": "application/json; charset=utf-8",
      ...headers,
    },
  });
}

/** A non-negative integer header value, or undefined when absent; NaN when malformed. */
export function integerHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (!/^\d{1,16}$/.test(v)) return Number.NaN;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}
