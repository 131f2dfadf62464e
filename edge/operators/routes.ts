/**
 * What an operator can do with one authenticated request (the admin token):
 *   GET  /operators/episodes?state=&podcastId=   episodes by state, across shows or for one
 *   POST /operators/episodes/:episodeId/rerun    start a failed or dead-lettered episode again from its stored source
 */
import { Hono } from "hono";
import type { Env } from "../env.ts";
import type { Episode, EpisodeState } from "../../shared/episode.ts";
import { rerun } from "../../shared/episode-lifecycle.ts";
import { requireAdmin } from "../podcasts/auth.ts";
import { listEpisodeIndex } from "../episodes/index-listing.ts";
import { honeycombLinks, type HoneycombLinks } from "../episodes/honeycomb-links.ts";
import { readEpisode, writeEpisode } from "../episodes/store.ts";
import { resendJob } from "../queue/send-job.ts";

export const operatorRoutes = new Hono<{ Bindings: Env }>();
operatorRoutes.use("*", requireAdmin);

const STATES = ["uploading", "queued", "processing", "published", "failed", "dead_lettered"] as const;
type StateFilter = (typeof STATES)[number];
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A listing reads each matching record: bounded per request. */
const MAX_LISTED = 500;

/** One line of the listing: what an operator needs to decide, not the whole record; links as the status API gives them. */
function listed(e: Episode, links: HoneycombLinks | undefined) {
  return {
    episodeId: e.episodeId,
    podcastId: e.podcastId,
    title: e.title,
    state: e.state,
    ...(e.state === "processing" ? { stage: e.stage ?? null, since: e.processingSince ?? e.updatedAt } : {}),
    ...(e.state === "queued" ? { since: e.updatedAt } : {}),
    ...(e.state === "failed" && e.failure ? { failure: e.failure } : {}),
    attempts: e.attempts,
    ...(e.lastRetry ? { lastRetry: e.lastRetry } : {}),
    ...(e.resent ? { resent: e.resent } : {}),
    updatedAt: e.updatedAt,
    ...(links ? { links } : {}),
  };
}

function matches(e: Episode, state: StateFilter | undefined): boolean {
  if (!state) return true;
  if (state === "dead_lettered") return e.state === "failed" && e.failure?.deadLettered === true;
  return e.state === state;
}

operatorRoutes.get("/episodes", async (c) => {
  const state = c.req.query("state");
  const podcastId = c.req.query("podcastId");
  if (state !== undefined && !(STATES as readonly string[]).includes(state)) {
    return c.json({ error: `state must be one of ${STATES.join(", ")}` }, 400);
  }
  if (podcastId !== undefined && !ID.test(podcastId)) return c.json({ error: "podcastId is not a valid id" }, 400);
  const filter = state as StateFilter | undefined;
  const indexState: EpisodeState | undefined = filter === "dead_lettered" ? "failed" : filter;
  const episodes: ReturnType<typeof listed>[] = [];
  let truncated = false;
  for await (const entry of listEpisodeIndex(c.env.MEDIA)) {
    // The index narrows; the record decides (it may have moved on since it was listed).
    if (indexState && entry.state && entry.state !== indexState) continue;
    if (podcastId && entry.podcastId && entry.podcastId !== podcastId) continue;
    if (episodes.length >= MAX_LISTED) {
      truncated = true;
      break;
    }
    const e = await readEpisode(c.env.MEDIA, entry.episodeId);
    if (e && matches(e, filter) && (!podcastId || e.podcastId === podcastId)) episodes.push(listed(e, honeycombLinks(c.env, e)));
  }
  c.header("Cache-Control", "no-store");
  return c.json({ episodes, ...(truncated ? { truncated: true } : {}) });
});

operatorRoutes.post("/episodes/:episodeId/rerun", async (c) => {
  const episodeId = c.req.param("episodeId");
  const episode = ID.test(episodeId) ? await readEpisode(c.env.MEDIA, episodeId) : null;
  if (!episode) return c.json({ error: "episode not found" }, 404);
  if (episode.state === "published") {
    // Nothing to do, and nothing done: no job, no second feed entry.
    return c.json({ episodeId, state: episode.state, rerun: false, reason: "already published" }, 200);
  }
  if (episode.state !== "failed") {
    return c.json({ error: `episode is ${episode.state}: only a failed episode can be re-run`, state: episode.state }, 409);
  }
  if (!(await c.env.MEDIA.head(episode.sourceKey))) {
    return c.json({ error: "the episode's source is no longer stored: upload it again" }, 409);
  }
  const next = rerun(episode);
  await writeEpisode(c.env.MEDIA, next);
  await resendJob(c.env, next, "operator re-run", c.executionCtx);
  return c.json({ episodeId, state: next.state, rerun: true }, 202);
});
