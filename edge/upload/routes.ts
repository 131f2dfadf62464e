/**
 * tus 1.0.0 upload endpoint, mounted at /uploads. The Worker answers
 * discovery and CORS, checks the protocol version and the upload token, then
 * hands every request about one upload to that upload's Durable Object
 * (EpisodeUpload), which owns its state and serialises its writers.
 */
import { Hono, type Context } from "hono";
import { requirePodcast, type PodcastAuth } from "../podcasts/auth.ts";
import { uploadCors } from "./cors.ts";
import { DRAIN_TRANSIENT_BYTES, drainUnread } from "./drain.ts";
import { discoveryHeaders, handleOptions } from "./handlers/options.ts";
import { uploadLimits } from "./limits.ts";
import { PODCAST_HEADER, TUS_VERSION, tusError } from "./protocol.ts";
import { uploadObject } from "./upload-object.ts";

export const uploadRoutes = new Hono<PodcastAuth>();

const EPISODE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OVERRIDABLE = new Set(["PATCH", "DELETE", "HEAD"]);

uploadRoutes.use(
  "*",
  uploadCors((env) => discoveryHeaders(uploadLimits(env))),
);
// Refused before reaching an upload (401, 403, 412...): read a little of an unread body so the client sees
// the answer, not a reset connection; never much, since the sender may not even be authenticated.
uploadRoutes.use("*", async (c, next) => {
  await next();
  await drainUnread(c.req.raw, c.res, DRAIN_TRANSIENT_BYTES);
});
uploadRoutes.options("/", (c) => handleOptions(uploadLimits(c.env)));
uploadRoutes.options("/:episodeId", (c) => handleOptions(uploadLimits(c.env)));

// tus core: every other request states the protocol version, every response carries it.
uploadRoutes.use("*", async (c, next) => {
  const version = c.req.header("Tus-Resumable");
  if (version !== TUS_VERSION) {
    const message = version ? `tus version ${version} is not supported` : "Tus-Resumable: 1.0.0 is required";
    return tusError(412, message, { "Tus-Version": TUS_VERSION });
  }
  await next();
  if (!c.res.headers.has("Tus-Resumable")) {
    const res = new Response(c.res.body, c.res);
    res.headers.set("Tus-Resumable", TUS_VERSION);
    c.res = res;
  }
});
uploadRoutes.use("*", requirePodcast);

/** Hands the request to the upload's Durable Object, as `method`, with the authenticated podcast and without the token. */
async function toUpload(c: Context<PodcastAuth>, episodeId: string, method: string): Promise<Response> {
  const headers = new Headers(c.req.raw.headers);
  headers.delete("Authorization");
  headers.delete("X-HTTP-Method-Override");
  headers.set(PODCAST_HEADER, c.var.podcast.podcastId);
  const url = new URL(c.req.url);
  url.pathname = `/uploads/${episodeId}`;
  url.search = "";
  const withBody = method === "PATCH" || method === "POST";
  // POST names a fresh id; the others may name one that never existed (upload-object.ts).
  const stub = method === "POST" ? c.env.UPLOADS.get(c.env.UPLOADS.idFromName(episodeId)) : await uploadObject(c.env, episodeId, method);
  return stub.fetch(new Request(url, { method, headers, body: withBody ? c.req.raw.body : null }));
}

// Creation: the upload id is the episode id.
uploadRoutes.post("/", (c) => toUpload(c, crypto.randomUUID(), "POST"));

const onUpload = (method: (c: Context<PodcastAuth>) => string | undefined) => (c: Context<PodcastAuth>) => {
  const episodeId = c.req.param("episodeId") ?? "";
  const m = method(c);
  if (!m) return tusError(405, "use HEAD, PATCH or DELETE on an upload URL", { Allow: "HEAD, PATCH, DELETE, OPTIONS" });
  if (!EPISODE_ID.test(episodeId)) return tusError(404, "upload not found");
  return toUpload(c, episodeId, m);
};

// Hono routes HEAD through GET handlers; a plain GET is not part of tus.
uploadRoutes.get(
  "/:episodeId",
  onUpload((c) => (c.req.method === "HEAD" ? "HEAD" : undefined)),
);
uploadRoutes.patch(
  "/:episodeId",
  onUpload(() => "PATCH"),
);
uploadRoutes.delete(
  "/:episodeId",
  onUpload(() => "DELETE"),
);
// X-HTTP-Method-Override (tus-js-client's overridePatchMethod) for networks that only pass GET and POST.
uploadRoutes.post(
  "/:episodeId",
  onUpload((c) => {
    const override = c.req.header("X-HTTP-Method-Override")?.toUpperCase();
    return override && OVERRIDABLE.has(override) ? override : undefined;
  }),
);
