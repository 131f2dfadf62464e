/**
 * Which Durable Object answers a request about one upload. An id that no
 * upload ever had would otherwise create a brand-new object just to answer
 * 404, and creating one is slower than asking a live one (measured under
 * wrangler dev: +2.5 ms idle, +40 ms on a loaded machine; more in production,
 * where a new name is first made unique), so HEAD's timing told which upload
 * ids exist. For HEAD the Worker first asks R2 whether the episode record
 * exists (written before the creation's 201, so every upload has it; a
 * metadata-only request, the same whether or not it is there) and sends an
 * unknown id to one shared stand-in object, which runs the same lookup, finds
 * no upload and answers 404. A known id of another show still goes to its own
 * object, which answers 404 the same way.
 *
 * Not for PATCH: it takes the upload's write lock before looking, so
 * concurrent PATCHes to unknown ids would meet at the stand-in and get 423.
 */
import type { Env } from "../env.ts";
import { keys } from "../../shared/storage-keys.ts";

/** Never an episode id (those are UUIDs), so no upload is ever stored in it. */
export const STAND_IN_UPLOAD = "stand-in";

export async function uploadObject(env: Env, episodeId: string, method: string): Promise<DurableObjectStub> {
  const name = method === "HEAD" && !(await env.MEDIA.head(keys.episode(episodeId))) ? STAND_IN_UPLOAD : episodeId;
  return env.UPLOADS.get(env.UPLOADS.idFromName(name));
}
