/** DELETE /uploads/:id — tus termination: stop a running chunk, abort the multipart upload, remove staged data. */
import { abandonUpload } from "../abandonment.ts";
import type { RequestScope, UploadContext } from "../context.ts";
import { tusError, tusResponse } from "../protocol.ts";
import { goneResponse, lookUp, notFound } from "./upload-state.ts";

export async function handleDelete(ctx: UploadContext, scope: RequestScope): Promise<Response> {
  // Cheap checks first, so that a stranger cannot interrupt somebody else's running chunk.
  const before = await lookUp(ctx, scope);
  if (before.found === "none") return notFound();
  if (before.found === "gone") return goneResponse(before.record);

  return ctx.preempt(async () => {
    const found = await lookUp(ctx, scope);
    if (found.found === "none") return notFound();
    if (found.found === "gone") return goneResponse(found.record);
    if (found.record.completedAt !== null) {
      return tusError(409, "upload is complete and its episode is being processed; it can no longer be terminated");
    }
    await abandonUpload(ctx, found.record, "terminated", "terminated by the client");
    return tusResponse(204);
  });
}
