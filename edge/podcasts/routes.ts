/**
 * Shows: `POST /podcasts` and `GET /podcasts` (admin); `GET`/`PATCH
 * /podcasts/:id`, `POST /podcasts/:id/token` and `GET /podcasts/:id/episodes`
 * (admin, or the show's own upload token for its own show).
 */
import { Hono, type Context } from "hono";
import type { Env } from "../env.ts";
import { DEFAULT_LOUDNESS, publicPodcast, type Podcast } from "../../shared/podcast.ts";
import { keys, publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import { podcastGuid } from "../../shared/feed/podcast-guid.ts";
import { rebuildFeed } from "../delivery/feed-store.ts";
import { API_CORS, cors } from "../delivery/cors.ts";
import { updateRecord, RecordGone } from "../update-record.ts";
import { listShowEpisodes } from "../episodes/episode-index.ts";
import { requireAdmin, sha256Hex } from "./auth.ts";
import { identifyCaller, mayManage, showNotFound, type ShowAccess } from "./access.ts";
import { checkArtwork } from "./artwork-check.ts";
import { readPodcast, writePodcast } from "./store.ts";
import { applyPodcastFields, podcastWarnings, PodcastFieldError, validatePodcastFields, type PodcastFields } from "./validate.ts";

export const podcastRoutes = new Hono<ShowAccess>();

podcastRoutes.use("*", cors(API_CORS));
podcastRoutes.options("*", () => new Response(null, { status: 204 }));

const PODCAST_ID = /^[A-Za-z0-9-]{1,64}$/;

function randomToken(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

const newUploadToken = (podcastId: string) => `pp_${podcastId}_${randomToken(32)}`;

function shown(env: Env, p: Podcast) {
  return { ...publicPodcast(p), feedUrl: publicUrl(env.PUBLIC_BASE_URL, publicPaths.feed(p.podcastId)), warnings: podcastWarnings(p) };
}

async function jsonBody(c: Context): Promise<unknown | Response> {
  try {
    return await c.req.json();
  } catch {
    return c.json({ error: "body must be JSON" }, 400);
  }
}

/** Fields validated, artwork fetched and checked; a 400 naming the field otherwise. */
async function checkedFields(
  c: Context,
  body: unknown,
  mode: "create" | "patch",
): Promise<{ fields: PodcastFields; artwork?: Podcast["artwork"] } | Response> {
  let fields: PodcastFields;
  try {
    fields = validatePodcastFields(body, mode);
  } catch (err) {
    if (err instanceof PodcastFieldError) return c.json({ error: err.message }, 400);
    throw err;
  }
  if (!fields.artworkUrl) return { fields };
  const art = await checkArtwork(fields.artworkUrl);
  if (typeof art === "string") return c.json({ error: `artworkUrl ${art}` }, 400);
  return { fields, artwork: { width: art.width, height: art.height, format: art.format } };
}

podcastRoutes.post("/", requireAdmin, async (c) => {
  const body = await jsonBody(c);
  if (body instanceof Response) return body;
  const checked = await checkedFields(c, body, "create");
  if (checked instanceof Response) return checked;

  const podcastId = crypto.randomUUID();
  const feedUrl = publicUrl(c.env.PUBLIC_BASE_URL, publicPaths.feed(podcastId));
  const uploadToken = newUploadToken(podcastId);
  const now = new Date().toISOString();
  const base: Podcast = {
    podcastId,
    title: "",
    author: "",
    description: "",
    language: "en",
    category: "",
    explicit: false,
    loudness: { ...DEFAULT_LOUDNESS },
    guid: podcastGuid(feedUrl),
    uploadTokenSha256: await sha256Hex(uploadToken),
    createdAt: now,
    updatedAt: now,
    episodesIndexedAt: now,
  };
  const podcast = applyPodcastFields(base, checked.fields);
  if (checked.artwork) podcast.artwork = checked.artwork;
  await writePodcast(c.env.MEDIA, podcast);
  // A feed from the start: apps and directories can be pointed at it before the first episode.
  await rebuildFeed(c.env, podcastId);
  // The token is returned exactly once; only its hash is stored.
  return c.json({ podcastId, uploadToken, feedUrl, podcast: publicPodcast(podcast), warnings: podcastWarnings(podcast) }, 201);
});

/** Every show, a page at a time (`?limit=` 1-100, default 50; `?cursor=` from the previous page). */
podcastRoutes.get("/", requireAdmin, async (c) => {
  const limit = pageLimit(c.req.query("limit"));
  if (typeof limit === "string") return c.json({ error: limit }, 400);
  const cursor = c.req.query("cursor");
  let page: R2Objects;
  try {
    page = await c.env.MEDIA.list({ prefix: "state/podcasts/", delimiter: "/", limit, ...(cursor ? { cursor } : {}) });
  } catch {
    return c.json({ error: "cursor is not valid: use nextCursor from the previous page" }, 400);
  }
  const ids = page.objects.map((o) => o.key.slice("state/podcasts/".length, -".json".length)).filter((id) => PODCAST_ID.test(id));
  const podcasts = (await Promise.all(ids.map((id) => readPodcast(c.env.MEDIA, id)))).filter((p): p is Podcast => p !== null);
  c.header("Cache-Control", "no-store");
  return c.json({ podcasts: podcasts.map((p) => shown(c.env, p)), ...(page.truncated ? { nextCursor: page.cursor } : {}) });
});

export function pageLimit(raw: string | undefined): number | string {
  if (raw === undefined) return 50;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : "limit must be a whole number from 1 to 100";
}

podcastRoutes.use("/:podcastId/*", identifyCaller);
podcastRoutes.use("/:podcastId", identifyCaller);

/** The show, if the caller may manage it; else the 404 answer. */
async function ownShow(c: Context<ShowAccess>): Promise<Podcast | Response> {
  const id = c.req.param("podcastId") ?? "";
  if (!PODCAST_ID.test(id) || !mayManage(c.var.caller, id)) return showNotFound(c);
  return (await readPodcast(c.env.MEDIA, id)) ?? showNotFound(c);
}

podcastRoutes.get("/:podcastId", async (c) => {
  const podcast = await ownShow(c);
  if (podcast instanceof Response) return podcast;
  c.header("Cache-Control", "no-store");
  return c.json(shown(c.env, podcast));
});

podcastRoutes.patch("/:podcastId", async (c) => {
  const podcast = await ownShow(c);
  if (podcast instanceof Response) return podcast;
  const body = await jsonBody(c);
  if (body instanceof Response) return body;
  const checked = await checkedFields(c, body, "patch");
  if (checked instanceof Response) return checked;
  let updated: Podcast;
  try {
    updated = await updateRecord<Podcast>(c.env.MEDIA, keys.podcast(podcast.podcastId), (current) => {
      const next = applyPodcastFields(current, checked.fields);
      if (checked.artwork) next.artwork = checked.artwork;
      if ("artworkUrl" in checked.fields && !checked.fields.artworkUrl) delete next.artwork;
      return { ...next, updatedAt: new Date().toISOString() };
    });
  } catch (err) {
    if (err instanceof RecordGone) return showNotFound(c);
    throw err;
  }
  await rebuildFeed(c.env, podcast.podcastId);
  return c.json(shown(c.env, updated));
});

/** A new upload token; the old one stops working at once. Returned once, like the first. */
podcastRoutes.post("/:podcastId/token", async (c) => {
  const podcast = await ownShow(c);
  if (podcast instanceof Response) return podcast;
  const uploadToken = newUploadToken(podcast.podcastId);
  const hash = await sha256Hex(uploadToken);
  await updateRecord<Podcast>(c.env.MEDIA, keys.podcast(podcast.podcastId), (current) => ({
    ...current,
    uploadTokenSha256: hash,
    updatedAt: new Date().toISOString(),
  }));
  c.header("Cache-Control", "no-store");
  return c.json({ podcastId: podcast.podcastId, uploadToken });
});

podcastRoutes.get("/:podcastId/episodes", async (c) => {
  const podcast = await ownShow(c);
  if (podcast instanceof Response) return podcast;
  const limit = pageLimit(c.req.query("limit"));
  if (typeof limit === "string") return c.json({ error: limit }, 400);
  const page = await listShowEpisodes(c.env, podcast, limit, c.req.query("cursor"));
  if (typeof page === "string") return c.json({ error: page }, 400);
  c.header("Cache-Control", "no-store");
  return c.json(page);
});
