/**
 * The part of PATCH and creation-with-upload that takes a chunk: receive it,
 * and act on the outcome (complete the upload, reject non-audio, report
 * checksum or size problems).
 */
import { abandonUpload } from "../abandonment.ts";
import { completeUpload, COMPLETION_RETRY_MS } from "../completion.ts";
import type { ExpectedChecksum } from "../checksum.ts";
import type { UploadContext } from "../context.ts";
import { CHECKSUM_MISMATCH, tusError } from "../protocol.ts";
import { receiveChunk } from "../receive-chunk.ts";
import { SUPPORTED_CONTAINERS } from "../sniff.ts";
import { allBytesReceived, type ReceivingUpload } from "../upload-record.ts";

export type ChunkAnswer = { ok: true; record: ReceivingUpload } | { ok: false; response: Response };

export function sizeLimitMessage(r: ReceivingUpload, maxBytes: number): string {
  return r.length !== null
    ? `chunk goes beyond Upload-Length (${r.length} bytes)`
    : `upload exceeds the largest size accepted (${maxBytes} bytes)`;
}

export async function writeChunk(
  ctx: UploadContext,
  record: ReceivingUpload,
  request: Request,
  checksum: ExpectedChecksum | undefined,
  contentLength: number | undefined,
  signal: AbortSignal,
): Promise<ChunkAnswer> {
  const result = await receiveChunk({
    record,
    body: request.body,
    contentLength,
    checksum,
    signal,
    limit: record.length ?? ctx.limits.maxBytes,
    expirySeconds: ctx.limits.expirySeconds,
    store: ctx.store,
    records: ctx.records,
    onReceived: ctx.countReceived,
  });
  switch (result.outcome) {
    case "not-audio": {
      const message = `file is not a supported audio format (expected ${SUPPORTED_CONTAINERS})`;
      await abandonUpload(ctx, record, "rejected", message);
      return { ok: false, response: tusError(415, message) };
    }
    case "terminated":
      return { ok: false, response: tusError(410, "upload was terminated while this chunk was arriving") };
    case "checksum-mismatch":
      return { ok: false, response: tusError(CHECKSUM_MISMATCH, "Upload-Checksum does not match the chunk; the chunk was discarded") };
    case "too-large":
      return { ok: false, response: tusError(413, sizeLimitMessage(result.record, ctx.limits.maxBytes)) };
    case "interrupted":
      // Usually nobody is listening any more; what arrived is kept and HEAD tells the client where to go on.
      return {
        ok: false,
        response: tusError(400, `upload chunk ended early (${result.reason}); resume from Upload-Offset`, {
          "Upload-Offset": String(result.record.offset),
        }),
      };
    case "stored":
      if (!allBytesReceived(result.record)) return { ok: true, record: result.record };
      return finish(ctx, result.record);
  }
}

/** Completes a fully received upload; a failure answers 503 so the client retries and the retry completes it. */
export async function finish(ctx: UploadContext, record: ReceivingUpload): Promise<ChunkAnswer> {
  try {
    return { ok: true, record: await completeUpload(ctx, record) };
  } catch (err) {
    console.error("completing upload failed; a retry or the alarm completes it", record.episodeId, String(err));
    await ctx.scheduleAlarm(Date.now() + COMPLETION_RETRY_MS);
    return {
      ok: false,
      response: tusError(503, "all bytes are stored but the episode could not be started yet; retry the request", { "Retry-After": "5" }),
    };
  }
}
