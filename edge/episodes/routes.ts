/**
 * `/episodes/:id`: an episode's status (GET) and its management after the
 * upload (PATCH, DELETE, unpublish/publish, transcript, chapters), for its
 * show's upload token or the admin token. Another show's episode answers 404,
 * exactly like one that does not exist.
 */
import { Hono, type Context } from "hono";
import type { Episode } from "../../shared/episode.ts";
import { applyEpisodeFields, EpisodeFieldError, parseEpisodeFields } from "../../shared/episode-details.ts";
import { CHAPTERS_CONTENT_TYPE } from "../../shared/feed/rss.ts";
import { InvalidChaptersError, parseChapters, renderChaptersJson } from "../../shared/feed/chapters.ts";
import { MAX_TRANSCRIPT_BYTES, TRANSCRIPT_FILES, TRANSCRIPT_TYPES, TranscriptError, transcriptFormat, validateTranscript } from "../../shared/transcript.ts";
import { canonicalLanguage, LANGUAGE_RULE } from "../../shared/language.ts";
import { keys, publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import { touch } from "../../shared/episode.ts";
import { API_CORS, cors } from "../delivery/cors.ts";
import { identifyCaller, mayManage, type ShowAccess } from "../podcasts/access.ts";
import { readPodcast } from "../podcasts/store.ts";
import { RecordGone, updateRecord } from "../update-record.ts";
import { readEpisode } from "./store.ts";
import { honeycombLinks } from "./honeycomb-links.ts";
import { episodeView } from "./episode-view.ts";
import { syncFeedEntry } from "./feed-entry.ts";
import { inPipeline, removeEpisode } from "./remove-episode.ts";
import { uploadProgress } from "./upload-progress.ts";

export const episodeRoutes = new Hono<ShowAccess>();

episodeRoutes.use("*", cors(API_CORS));
episodeRoutes.options("*", () => new Response(null, { status: 204 }));
episodeRoutes.use("*", identifyCaller);

const EPISODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Transcripts and chapters can be replaced: caches keep them briefly. */
const EDITABLE_CACHE = "public, max-age=300";
const MAX_CHAPTERS_BYTES = 1024 * 1024;

async function ownEpisode(c: Context<ShowAccess>): Promise<Episode | Response> {
  const episodeId = c.req.param("episodeId") ?? "";
  const episode = EPISODE_ID.test(episodeId) ? await readEpisode(c.env.MEDIA, episodeId) : null;
  // Another podcast's episode looks exactly like a missing one.
  if (!episode || !mayManage(c.var.caller, episode.podcastId)) return c.json({ error: "episode not found" }, 404);
  return episode;
}

/** The processor owns the record while it works on it: a change now would be overwritten. */
function busy(c: Context, e: Episode) {
  return c.json({ error: `episode is ${e.state}: change it once it is published or failed` }, 409);
}

/** Changes the record (conditionally, retried on a concurrent change), then brings the feed in step. */
async function change(c: Context<ShowAccess>, e: Episode, fn: (current: Episode) => Episode): Promise<Response> {
  let updated: Episode;
  try {
    updated = await updateRecord<Episode>(c.env.MEDIA, keys.episode(e.episodeId), (current) => {
      if (inPipeline(current)) throw new Busy(current);
      return touch(fn(current), {});
    });
  } catch (err) {
    if (err instanceof Busy) return busy(c, err.episode);
    if (err instanceof RecordGone) return c.json({ error: "episode not found" }, 404);
    throw err;
  }
  if (updated.state === "published") await syncFeedEntry(c.env, updated.episodeId);
  c.header("Cache-Control", "no-store");
  return c.json(episodeView(updated, new Date(), honeycombLinks(c.env, updated)));
}

class Busy extends Error {
  readonly episode: Episode;
  constructor(episode: Episode) {
    super("busy");
    this.episode = episode;
  }
}

episodeRoutes.get("/:episodeId", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  const progress = episode.state === "uploading" ? await uploadProgress(c.env, episode) : undefined;
  c.header("Cache-Control", "no-store");
  return c.json({ ...episodeView(episode, new Date(), honeycombLinks(c.env, episode)), ...(progress ? { upload: progress } : {}) });
});

episodeRoutes.patch("/:episodeId", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return c.json({ error: "body must be JSON" }, 400);
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return c.json({ error: "body must be a JSON object" }, 400);
  const allowed = new Set(["title", "description", "season", "episodeNumber", "episodeType", "explicit", "pubDate", "link", "imageUrl"]);
  const stray = Object.keys(body).find((k) => !allowed.has(k));
  if (stray) return c.json({ error: `${stray} is not an editable field of an episode (${[...allowed].join(", ")})` }, 400);
  let fields;
  try {
    fields = parseEpisodeFields(body as Record<string, unknown>, "json", (k) => k);
  } catch (err) {
    if (err instanceof EpisodeFieldError) return c.json({ error: err.message }, 400);
    throw err;
  }
  if (inPipeline(episode)) return busy(c, episode);
  return change(c, episode, (current) => applyEpisodeFields(current, fields));
});

/** Out of the feed, media and record kept: `POST /episodes/:id/publish` puts it back. */
episodeRoutes.post("/:episodeId/unpublish", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  if (episode.state !== "published") return c.json({ error: `episode is ${episode.state}: only a published episode can be unpublished` }, 409);
  return change(c, episode, (current) => ({ ...current, details: { ...current.details, unpublishedAt: new Date().toISOString() } }));
});

episodeRoutes.post("/:episodeId/publish", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  if (episode.state !== "published") return c.json({ error: `episode is ${episode.state}: it is published when processing ends` }, 409);
  return change(c, episode, (current) => {
    const { unpublishedAt: _gone, ...details } = current.details ?? {};
    return { ...current, details };
  });
});

episodeRoutes.delete("/:episodeId", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  if (episode.state === "uploading") return c.json({ error: "episode is still uploading: terminate the upload with a tus DELETE on its upload URL" }, 409);
  if (inPipeline(episode)) return busy(c, episode);
  await removeEpisode(c.env, episode);
  return c.body(null, 204);
});

/** `PUT /episodes/:id/transcript?language=xx`: a WebVTT (text/vtt) or SRT (application/srt) file, one per format. */
episodeRoutes.put("/:episodeId/transcript", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  const format = transcriptFormat(c.req.header("Content-Type"));
  if (!format) return c.json({ error: "Content-Type must be text/vtt (WebVTT) or application/srt (SRT)" }, 415);
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_TRANSCRIPT_BYTES) return c.json({ error: `transcript must be at most ${MAX_TRANSCRIPT_BYTES} bytes` }, 413);
  const podcast = await readPodcast(c.env.MEDIA, episode.podcastId);
  const rawLanguage = c.req.query("language");
  const language = rawLanguage === undefined ? podcast?.language : canonicalLanguage(rawLanguage);
  if (!language) return c.json({ error: `language must be ${LANGUAGE_RULE}` }, 400);
  const bytes = await readAtMost(c.req.raw.body, MAX_TRANSCRIPT_BYTES);
  if (!bytes) return c.json({ error: `transcript must be at most ${MAX_TRANSCRIPT_BYTES} bytes` }, 413);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    validateTranscript(text, format);
  } catch (err) {
    if (err instanceof TranscriptError) return c.json({ error: err.message }, 400);
    return c.json({ error: "transcript must be UTF-8 text" }, 400);
  }
  if (inPipeline(episode)) return busy(c, episode);
  const file = TRANSCRIPT_FILES[format];
  const type = TRANSCRIPT_TYPES[format];
  await c.env.MEDIA.put(keys.media(episode.podcastId, episode.episodeId, file), bytes, {
    httpMetadata: { contentType: `${type}; charset=utf-8`, cacheControl: EDITABLE_CACHE },
  });
  const url = publicUrl(c.env.PUBLIC_BASE_URL, publicPaths.media(episode.podcastId, episode.episodeId, file));
  return change(c, episode, (current) => {
    const others = (current.details?.transcripts ?? []).filter((t) => t.type !== type);
    return { ...current, details: { ...current.details, transcripts: [...others, { url, type, language }] } };
  });
});

/** The body, or undefined as soon as it passes `max` bytes (a missing Content-Length cannot make it read more). */
async function readAtMost(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `PUT /episodes/:id/chapters`: Podcasting 2.0 JSON chapters (or a bare array of chapters); replaces the episode's. */
episodeRoutes.put("/:episodeId/chapters", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  if (Number(c.req.header("Content-Length") ?? "0") > MAX_CHAPTERS_BYTES) return c.json({ error: `chapters must be at most ${MAX_CHAPTERS_BYTES} bytes` }, 413);
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    return c.json({ error: "chapters must be JSON (application/json+chapters)" }, 400);
  }
  let json: string;
  let count: number;
  try {
    const chapters = parseChapters(value, episode.durationSeconds !== undefined ? { durationSeconds: episode.durationSeconds } : {});
    json = renderChaptersJson(chapters);
    count = chapters.length;
  } catch (err) {
    if (err instanceof InvalidChaptersError) return c.json({ error: err.message }, 400);
    throw err;
  }
  if (inPipeline(episode)) return busy(c, episode);
  const file = "chapters.json";
  await c.env.MEDIA.put(keys.media(episode.podcastId, episode.episodeId, file), json, {
    httpMetadata: { contentType: CHAPTERS_CONTENT_TYPE, cacheControl: EDITABLE_CACHE },
  });
  const url = publicUrl(c.env.PUBLIC_BASE_URL, publicPaths.media(episode.podcastId, episode.episodeId, file));
  return change(c, episode, (current) => ({ ...current, chapters: { url, count } }));
});
