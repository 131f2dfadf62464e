/** DELETE /uploads/:id — tus termination: stop a running chunk, abort the multipart upload, remove staged data. */
import { abandonUpload } from "../abandonment.ts";
import type { RequestScope, UploadContext } from "../context.ts";
import { tusError, tusResponse } from "../protocol.ts";
import { goneResponse, lookUp, notFound } from "./upload-state.ts";
import { readEpisode } from "../../episodes/store.ts";
import { inPipeline, removeEpisode } from "../../episodes/remove-episode.ts";

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
      // A finished upload is an episode now: deleting it deletes the episode (media, records, feed item), unless the pipeline has it.
      const episode = await readEpisode(ctx.env.MEDIA, scope.episodeId);
      if (episode && inPipeline(episode)) {
        return tusError(409, `upload is complete and its episode is ${episode.state}; delete it once it is published or failed`);
      }
      if (episode) await removeEpisode(ctx.env, episode);
      await ctx.records.forgetAll();
      return tusResponse(204);
    }
    await abandonUpload(ctx, found.record, "terminated", "terminated by the client");
    return tusResponse(204);
  });
}
