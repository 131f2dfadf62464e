/**
 * PATCH /uploads/:id — append a chunk at Upload-Offset (tus core, checksum,
 * creation-defer-length). One writer at a time: a concurrent PATCH gets 423.
 */
import { BUSY, type RequestScope, type UploadContext } from "../context.ts";
import { integerHeader, tusError, tusResponse } from "../protocol.ts";
import { allBytesReceived, isComplete } from "../upload-record.ts";
import { checksumOf, contentLengthOf, hasBodyBytes, isOffsetStream } from "./request-headers.ts";
import { expire, goneResponse, isExpired, lockedResponse, lookUp, notFound, progressHeaders } from "./upload-state.ts";
import { finish, sizeLimitMessage, writeChunk } from "./write-chunk.ts";

export async function handlePatch(request: Request, ctx: UploadContext, scope: RequestScope): Promise<Response> {
  if (!isOffsetStream(request)) return tusError(415, "PATCH requests must have Content-Type: application/offset+octet-stream");
  const offset = integerHeader(request.headers.get("Upload-Offset"));
  if (offset === undefined) return tusError(400, "Upload-Offset is required");
  if (Number.isNaN(offset)) return tusError(400, "Upload-Offset must be a whole number of bytes");
  const newLength = integerHeader(request.headers.get("Upload-Length"));
  if (Number.isNaN(newLength)) return tusError(400, "Upload-Length must be a whole number of bytes");
  const checksum = checksumOf(request);
  if (!checksum.ok) return checksum.response;
  const contentLength = contentLengthOf(request);
  if (!contentLength.ok) return contentLength.response;

  const response = await ctx.exclusive(async (signal): Promise<Response> => {
    const found = await lookUp(ctx, scope);
    if (found.found === "none") return notFound();
    if (found.found === "gone") return goneResponse(found.record);
    let record = found.record;
    if (isExpired(record)) return expire(ctx, record);

    if (newLength !== undefined && newLength !== record.length) {
      // creation-defer-length: the length is declared once, on a later PATCH.
      if (record.length !== null) return tusError(400, `Upload-Length cannot change: it is ${record.length}`);
      if (newLength < record.offset)
        return tusError(400, `Upload-Length ${newLength} is less than the ${record.offset} bytes already uploaded`);
      if (newLength === 0) return tusError(400, "the file is empty: Upload-Length must be at least 1 byte");
      if (newLength > ctx.limits.maxBytes)
        return tusError(413, `the file is ${newLength} bytes; the largest upload accepted is ${ctx.limits.maxBytes} bytes`);
    }
    if (offset !== record.offset) {
      return tusError(409, `Upload-Offset ${offset} does not match the upload's offset ${record.offset}; ask HEAD where to resume`);
    }
    const limit = newLength ?? record.length ?? ctx.limits.maxBytes;
    if (contentLength.value !== undefined && offset + contentLength.value > limit) {
      return tusError(413, sizeLimitMessage({ ...record, length: newLength ?? record.length }, ctx.limits.maxBytes));
    }
    if (newLength !== undefined && record.length === null) {
      record = { ...record, length: newLength };
      await ctx.records.save(record);
    }
    if (isComplete(record)) return tusResponse(204, progressHeaders(record));

    const answer =
      allBytesReceived(record) && !hasBodyBytes(request, contentLength.value)
        ? await finish(ctx, record) // a retried final PATCH, or a deferred length declared after the last byte
        : await writeChunk(ctx, record, request, checksum.value, contentLength.value, signal);
    return answer.ok ? tusResponse(204, progressHeaders(answer.record)) : answer.response;
  });
  return response === BUSY ? lockedResponse() : response;
}
