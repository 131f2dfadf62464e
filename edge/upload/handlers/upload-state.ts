/** Looking an upload up for a request, and describing it in tus headers. */
import { abandonUpload } from "../abandonment.ts";
import type { RequestScope, UploadContext } from "../context.ts";
import { httpDate, tusError } from "../protocol.ts";
import { allBytesReceived, isComplete, type GoneUpload, type ReceivingUpload } from "../upload-record.ts";

export type Lookup = { found: "none" } | { found: "gone"; record: GoneUpload } | { found: "receiving"; record: ReceivingUpload };

/** The upload, as the asking podcast may see it: another podcast's upload does not exist (404, no leak). */
export async function lookUp(ctx: UploadContext, scope: RequestScope): Promise<Lookup> {
  const record = await ctx.records.read();
  if (!record || record.podcastId !== scope.podcastId || record.episodeId !== scope.episodeId) return { found: "none" };
  if (record.status === "gone") return { found: "gone", record };
  return { found: "receiving", record };
}

export function notFound(): Response {
  return tusError(404, "upload not found");
}

export function goneResponse(g: GoneUpload): Response {
  const why = { terminated: "was terminated", expired: "expired", rejected: "was rejected" }[g.reason];
  return tusError(410, `upload ${why}: ${g.message}`);
}

/** Unfinished and past its expiry, though the alarm has not swept it yet. */
export function isExpired(r: ReceivingUpload, now = Date.now()): boolean {
  return !allBytesReceived(r) && r.completedAt === null && now >= r.expiresAt;
}

export async function expire(ctx: UploadContext, r: ReceivingUpload): Promise<Response> {
  const gone = await abandonUpload(ctx, r, "expired", `no data for ${ctx.limits.expirySeconds} seconds`);
  return goneResponse(gone);
}

/** Upload-Offset and, while unfinished, Upload-Expires (tus expiration: on every PATCH response). */
export function progressHeaders(r: ReceivingUpload): Record<string, string> {
  return {
    "Upload-Offset": String(r.offset),
    ...(isComplete(r) ? {} : { "Upload-Expires": httpDate(r.expiresAt) }),
  };
}

/** What HEAD reports: offset, length (or that it is deferred), the creation metadata. */
export function statusHeaders(r: ReceivingUpload): Record<string, string> {
  return {
    ...progressHeaders(r),
    ...(r.length === null ? { "Upload-Defer-Length": "1" } : { "Upload-Length": String(r.length) }),
    ...(r.rawMetadata ? { "Upload-Metadata": r.rawMetadata } : {}),
  };
}

export function lockedResponse(): Response {
  return tusError(423, "another request is writing to this upload; retry shortly");
}
