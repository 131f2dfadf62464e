/**
 * POST /uploads (tus creation, creation-defer-length, creation-with-upload),
 * run inside the new upload's Durable Object. The Worker chose the id.
 */
import { uploadStarted } from "../../episodes/lifecycle.ts";
import { newUploadTrace } from "../../episodes/upload-events.ts";
import { keys } from "../../../shared/storage-keys.ts";
import { BUSY, type RequestScope, type UploadContext } from "../context.ts";
import { MetadataError, parseUploadMetadata, type UploadMetadata } from "../metadata.ts";
import { CHECKSUM_MISMATCH, httpDate, integerHeader, tusError, tusResponse } from "../protocol.ts";
import { startedEvent, type ReceivingUpload } from "../upload-record.ts";
import { checksumOf, contentLengthOf, hasBodyBytes, isOffsetStream } from "./request-headers.ts";
import { lockedResponse } from "./upload-state.ts";
import { writeChunk } from "./write-chunk.ts";

/** Upload-Length, or null when deferred; a Response for a bad or missing value. */
function declaredLength(request: Request, maxBytes: number): number | null | Response {
  const lengthHeader = request.headers.get("Upload-Length");
  const deferHeader = request.headers.get("Upload-Defer-Length");
  if (lengthHeader !== null && deferHeader !== null) return tusError(400, "send either Upload-Length or Upload-Defer-Length, not both");
  if (deferHeader !== null) return deferHeader.trim() === "1" ? null : tusError(400, "Upload-Defer-Length must be 1");
  const length = integerHeader(lengthHeader);
  if (length === undefined) return tusError(400, "Upload-Length (the file size in bytes) is required, or Upload-Defer-Length: 1");
  if (Number.isNaN(length)) return tusError(400, "Upload-Length must be a whole number of bytes");
  if (length === 0) return tusError(400, "the file is empty: Upload-Length must be at least 1 byte");
  if (length > maxBytes) return tusError(413, `the file is ${length} bytes; the largest upload accepted is ${maxBytes} bytes`);
  return length;
}

/** The content type the source object is stored with: the client's audio type if it gave one. */
function sourceContentType(metadata: UploadMetadata): string {
  return metadata.filetype?.toLowerCase().startsWith("audio/") ? metadata.filetype : "application/octet-stream";
}

export async function handlePost(request: Request, ctx: UploadContext, scope: RequestScope): Promise<Response> {
  const length = declaredLength(request, ctx.limits.maxBytes);
  if (length instanceof Response) return length;

  let metadata: UploadMetadata;
  try {
    metadata = parseUploadMetadata(request.headers.get("Upload-Metadata"));
  } catch (err) {
    if (err instanceof MetadataError) return tusError(400, err.message);
    throw err;
  }

  const contentLength = contentLengthOf(request);
  if (!contentLength.ok) return contentLength.response;
  const withData = hasBodyBytes(request, contentLength.value);
  if (withData && !isOffsetStream(request)) {
    return tusError(415, "data sent with the creation request must be Content-Type: application/offset+octet-stream");
  }
  const checksum = checksumOf(request);
  if (!checksum.ok) return checksum.response;
  const limit = length ?? ctx.limits.maxBytes;
  if (withData && contentLength.value !== undefined && contentLength.value > limit) {
    return tusError(413, `the data sent (${contentLength.value} bytes) is larger than the upload (${limit} bytes)`);
  }
  if (await ctx.records.read()) return tusError(500, "upload id collision; retry");

  const { podcastId, episodeId } = scope;
  const sourceKey = keys.source(podcastId, episodeId);
  const target = await ctx.store.begin(sourceKey, sourceContentType(metadata), { episodeId, podcastId });
  const now = scope.receivedAt;
  const record: ReceivingUpload = {
    status: "receiving",
    episodeId,
    podcastId,
    length,
    offset: 0,
    partBytes: ctx.limits.partBytes,
    parts: 0,
    tail: null,
    tailVersion: 0,
    sniffed: false,
    target,
    metadata,
    rawMetadata: request.headers.get("Upload-Metadata") ?? "",
    createdAt: new Date(now).toISOString(),
    expiresAt: now + ctx.limits.expirySeconds * 1000,
    trace: newUploadTrace(),
    storedAt: null,
    completedAt: null,
  };
  await ctx.records.save(record);
  try {
    await uploadStarted(ctx.env, startedEvent(record));
  } catch (err) {
    console.error("starting the episode failed; upload not created", episodeId, String(err));
    await ctx.store.abort(target);
    await ctx.records.forgetAll();
    return tusError(503, "the episode could not be registered; retry the upload", { "Retry-After": "5" });
  }
  await ctx.scheduleAlarm(record.expiresAt);

  const created = { Location: scope.uploadUrl, "Episode-Id": episodeId };
  if (!withData) return tusResponse(201, { ...created, "Upload-Expires": httpDate(record.expiresAt) });

  const answer = await ctx.exclusive((signal) => writeChunk(ctx, record, request, checksum.value, contentLength.value, signal));
  if (answer === BUSY) return lockedResponse();
  if (answer.ok) {
    const r = answer.record;
    return tusResponse(201, {
      ...created,
      "Upload-Offset": String(r.offset),
      ...(r.completedAt === null ? { "Upload-Expires": httpDate(r.expiresAt) } : {}),
    });
  }
  // The upload exists even though its first chunk was refused: a client can go on with PATCH from offset 0.
  const refused = answer.response;
  if (refused.status === CHECKSUM_MISMATCH || refused.status === 400 || refused.status === 413) {
    const headers = new Headers(refused.headers);
    headers.set("Location", scope.uploadUrl);
    headers.set("Episode-Id", episodeId);
    return new Response(refused.body, { status: refused.status, headers });
  }
  return refused;
}
