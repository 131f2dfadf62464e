/**
 * Turns a fully received upload into an episode: joins the parts into the
 * final object, then reports it (uploadCompleted enqueues the job). Each step
 * is recorded, so a retry (a repeated final PATCH, a HEAD, the alarm) resumes
 * where a failure stopped, and the report is made once after it succeeded.
 */
import { uploadCompleted } from "../episodes/lifecycle.ts";
import type { UploadContext } from "./context.ts";
import { allBytesReceived, stagedPrefix, startedEvent, type ReceivingUpload } from "./upload-record.ts";

/** Retry delay of the alarm when completing failed. */
export const COMPLETION_RETRY_MS = 30_000;

export async function completeUpload(ctx: UploadContext, record: ReceivingUpload): Promise<ReceivingUpload> {
  if (!allBytesReceived(record)) throw new Error("upload is not fully received");
  let r = record;
  if (r.storedAt === null) {
    const parts = await ctx.records.parts(r.parts);
    await ctx.store.complete(r.target, parts, r.length!);
    r = { ...r, storedAt: new Date().toISOString() };
    await ctx.records.save(r);
  }
  if (r.completedAt === null) {
    await uploadCompleted(ctx.env, { ...startedEvent(r), size: r.length!, completedAt: r.storedAt! });
    r = { ...r, completedAt: new Date().toISOString() };
    await ctx.records.save(r);
    console.info(`upload complete: episode ${r.episodeId}, ${r.length} bytes in ${r.parts} parts`);
    // Housekeeping only: leftovers of an interrupted earlier attempt.
    await Promise.allSettled([ctx.records.forgetParts(), ctx.store.deleteObjectsUnder(stagedPrefix(r))]);
  }
  return r;
}
