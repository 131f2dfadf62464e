/** Reading the tus request headers that several methods share, with a 4xx answer for each bad one. */
import { ChecksumHeaderError, parseUploadChecksum, type ExpectedChecksum } from "../checksum.ts";
import { integerHeader, OFFSET_CONTENT_TYPE, tusError } from "../protocol.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; response: Response };

export function checksumOf(request: Request): Parsed<ExpectedChecksum | undefined> {
  try {
    return { ok: true, value: parseUploadChecksum(request.headers.get("Upload-Checksum")) };
  } catch (err) {
    if (err instanceof ChecksumHeaderError) return { ok: false, response: tusError(400, err.message) };
    throw err;
  }
}

export function contentLengthOf(request: Request): Parsed<number | undefined> {
  const n = integerHeader(request.headers.get("Content-Length"));
  if (Number.isNaN(n)) return { ok: false, response: tusError(400, "Content-Length must be a whole number of bytes") };
  return { ok: true, value: n };
}

export function isOffsetStream(request: Request): boolean {
  const type = request.headers.get("Content-Type");
  return type !== null && type.split(";")[0]!.trim().toLowerCase() === OFFSET_CONTENT_TYPE;
}

/** True when a request carries body bytes (declared length > 0, or a chunked body). */
export function hasBodyBytes(request: Request, contentLength: number | undefined): boolean {
  if (contentLength !== undefined) return contentLength > 0;
  return request.body !== null;
}
