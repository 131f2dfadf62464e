/** Internal (not tus): bytes stored so far, answered at once even while a chunk is arriving. See ../progress.ts. */
import type { RequestScope, UploadContext } from "../context.ts";
import type { StoredProgress } from "../progress.ts";
import { lookUp, notFound } from "./upload-state.ts";

export async function handleProgress(ctx: UploadContext, scope: RequestScope): Promise<Response> {
  const found = await lookUp(ctx, scope);
  if (found.found !== "receiving") return notFound();
  const r = found.record;
  const progress: StoredProgress = { bytesReceived: r.offset, ...(r.length !== null ? { totalBytes: r.length } : {}) };
  return Response.json(progress);
}
