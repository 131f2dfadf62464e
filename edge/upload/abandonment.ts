/**
 * Ends an upload without a file: terminated by the client, expired, or
 * rejected as not audio. The decision is recorded first (a tombstone), then
 * storage is released and the episode is told; the alarm retries whatever
 * of that failed, and deletes the tombstone later.
 */
import { uploadAbandoned, type AbandonReason } from "../episodes/lifecycle.ts";
import type { UploadContext } from "./context.ts";
import { stagedPrefix, startedEvent, type GoneUpload, type ReceivingUpload } from "./upload-record.ts";

export const ABANDON_RETRY_MS = 30_000;

export async function abandonUpload(
  ctx: UploadContext,
  record: ReceivingUpload,
  reason: AbandonReason,
  message: string,
): Promise<GoneUpload> {
  const now = Date.now();
  const gone: GoneUpload = {
    status: "gone",
    episodeId: record.episodeId,
    podcastId: record.podcastId,
    reason,
    message,
    at: new Date(now).toISOString(),
    target: record.target,
    // An upload that was stored but never reported has a final object to remove too.
    finalObject: record.storedAt !== null,
    stagedPrefix: stagedPrefix(record),
    released: false,
    reported: false,
    started: startedEvent(record),
    forgetAt: now + ctx.limits.expirySeconds * 1000,
  };
  await ctx.records.save(gone);
  console.info(`upload ${reason}: episode ${record.episodeId} at offset ${record.offset}`);
  try {
    return await settleAbandonment(ctx, gone);
  } catch (err) {
    console.error("releasing an abandoned upload failed; the alarm retries", record.episodeId, String(err));
    await ctx.scheduleAlarm(Date.now() + ABANDON_RETRY_MS);
    return gone;
  }
}

/** Releases storage and reports the abandonment, whichever is still to do; schedules the tombstone's removal. */
export async function settleAbandonment(ctx: UploadContext, gone: GoneUpload): Promise<GoneUpload> {
  let g = gone;
  if (!g.released) {
    await ctx.store.abort(g.target);
    await ctx.store.deleteObjectsUnder(g.stagedPrefix);
    if (g.finalObject) await ctx.store.deleteObjects([g.target.key]);
    await ctx.records.forgetParts();
    g = { ...g, released: true };
    await ctx.records.save(g);
  }
  if (!g.reported) {
    await uploadAbandoned(ctx.env, g.started, g.reason, g.message);
    g = { ...g, reported: true };
    await ctx.records.save(g);
  }
  await ctx.scheduleAlarm(g.forgetAt);
  return g;
}
