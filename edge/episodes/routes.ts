/**
 * `GET /episodes/:id`: where an episode is in its life, for its creator (the
 * podcast's upload token) and for operators (the admin token).
 */
import { Hono } from "hono";
import type { Env } from "../env.ts";
import { bearerToken, podcastForToken, secretsEqual } from "../podcasts/auth.ts";
import { readEpisode } from "./store.ts";
import { episodeStatus } from "./status.ts";
import { honeycombLinks } from "./honeycomb-links.ts";
import { uploadProgress } from "./upload-progress.ts";

export const episodeRoutes = new Hono<{ Bindings: Env }>();

const EPISODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

episodeRoutes.get("/:episodeId", async (c) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) {
    return c.json({ error: "missing token: send Authorization: Bearer <upload token or admin token>" }, 401, {
      "WWW-Authenticate": 'Bearer realm="podcast-pipeline"',
    });
  }
  const isAdmin = !!c.env.ADMIN_TOKEN && (await secretsEqual(token, c.env.ADMIN_TOKEN));
  const podcast = isAdmin ? undefined : await podcastForToken(c.env, token);
  if (!isAdmin && !podcast) return c.json({ error: "token not valid" }, 403);

  const episodeId = c.req.param("episodeId");
  const episode = EPISODE_ID.test(episodeId) ? await readEpisode(c.env.MEDIA, episodeId) : null;
  // Another podcast's episode looks exactly like a missing one.
  if (!episode || (podcast && episode.podcastId !== podcast.podcastId)) return c.json({ error: "episode not found" }, 404);

  const progress = episode.state === "uploading" ? await uploadProgress(c.env, episode) : undefined;
  c.header("Cache-Control", "no-store");
  return c.json(episodeStatus(episode, progress, honeycombLinks(c.env, episode)));
});
