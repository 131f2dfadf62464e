/** HEAD /uploads/:id — where an upload stands (tus core), so any client can resume it from its URL. */
import { BUSY, type RequestScope, type UploadContext } from "../context.ts";
import { tusResponse } from "../protocol.ts";
import { allBytesReceived, isComplete } from "../upload-record.ts";
import { expire, goneResponse, isExpired, lockedResponse, lookUp, notFound, statusHeaders } from "./upload-state.ts";
import { finish } from "./write-chunk.ts";

/**
 * A client that lost its connection mid-chunk usually asks HEAD at once,
 * while the old request is still storing what arrived: wait briefly for it,
 * so the answer is the offset to resume from rather than a stale one.
 */
const SETTLE_MS = 2_000;

export async function handleHead(ctx: UploadContext, scope: RequestScope): Promise<Response> {
  const owned = await lookUp(ctx, scope);
  // Only the podcast's own upload waits for its writer (another's must not learn it is being written);
  // every answer then looks the upload up a second time, so a 404 costs what a 200 costs.
  if (owned.found !== "none") await ctx.writerSettled(SETTLE_MS);
  const found = await lookUp(ctx, scope);
  if (owned.found === "none" || found.found === "none") return notFound();
  if (found.found === "gone") return goneResponse(found.record);
  let record = found.record;

  if (isExpired(record) || (allBytesReceived(record) && !isComplete(record))) {
    // Expiring, or completing after an earlier failure: both change the upload, so they take its lock.
    const answer = await ctx.exclusive(async () => {
      const current = await lookUp(ctx, scope);
      if (current.found !== "receiving")
        return { ok: false as const, response: current.found === "gone" ? goneResponse(current.record) : notFound() };
      if (isExpired(current.record)) return { ok: false as const, response: await expire(ctx, current.record) };
      if (allBytesReceived(current.record) && !isComplete(current.record)) return finish(ctx, current.record);
      return { ok: true as const, record: current.record };
    });
    if (answer === BUSY) return lockedResponse();
    if (!answer.ok) return answer.response;
    record = answer.record;
  }
  return tusResponse(200, statusHeaders(record));
}
