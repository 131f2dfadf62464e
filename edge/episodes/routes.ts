/**
 * `/episodes/:id`: an episode's status (GET) and its management after the
 * upload (PATCH, DELETE, unpublish/publish, transcript, chapters), for its
 * show's upload token or the admin token. Another show's episode answers 404,
 * exactly like one that does not exist.
 */
import { Hono, type Context } from "hono";
import type { Chapter, Episode } from "../../shared/episode.ts";
import { chaptersRevision, suppliedChapters } from "../../shared/supplied-chapters.ts";
import { applyEpisodeFields, EpisodeFieldError, parseEpisodeFields } from "../../shared/episode-details.ts";
import { CHAPTERS_CONTENT_TYPE } from "../../shared/feed/rss.ts";
import { InvalidChaptersError, parseChapters, renderChaptersJson } from "../../shared/feed/chapters.ts";
import {
  MAX_TRANSCRIPT_BYTES,
  TRANSCRIPT_FILES,
  TRANSCRIPT_TYPES,
  TranscriptError,
  transcriptFormat,
  validateTranscript,
} from "../../shared/transcript.ts";
import { canonicalLanguage, LANGUAGE_RULE } from "../../shared/language.ts";
import { keys, publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import { touch } from "../../shared/episode.ts";
import { API_CORS, cors } from "../delivery/cors.ts";
import { identifyCaller, mayManage, type ShowAccess } from "../podcasts/access.ts";
import { readPodcast } from "../podcasts/store.ts";
import { RecordGone } from "../update-record.ts";
import { readEpisode, updateEpisode } from "./store.ts";
import { honeycombLinks } from "./honeycomb-links.ts";
import { episodeView } from "./episode-view.ts";
import { syncFeedEntry } from "./feed-entry.ts";
import { inPipeline, removeEpisode } from "./remove-episode.ts";
import { uploadProgress } from "./upload-progress.ts";
import { requestTrace, retagJobFor, traceIdOf } from "./retag-job.ts";

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
  const updated = await changeRecord(c, e, fn);
  return updated instanceof Response ? updated : answer(c, updated);
}

/** The change itself: the updated record, or the answer when it could not be made. */
async function changeRecord(c: Context<ShowAccess>, e: Episode, fn: (current: Episode) => Episode): Promise<Episode | Response> {
  let updated: Episode;
  try {
    updated = await updateEpisode(c.env.MEDIA, e.episodeId, (current) => {
      if (inPipeline(current)) throw new Busy(current);
      return touch(fn(current), {});
    });
  } catch (err) {
    if (err instanceof Busy) return busy(c, err.episode);
    if (err instanceof RecordGone) return c.json({ error: "episode not found" }, 404);
    throw err;
  }
  if (updated.state === "published") await syncFeedEntry(c.env, updated.episodeId);
  return updated;
}

function answer(c: Context<ShowAccess>, e: Episode): Response {
  c.header("Cache-Control", "no-store");
  return c.json(episodeView(e, new Date(), honeycombLinks(c.env, e)));
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
  let fields: ReturnType<typeof parseEpisodeFields>;
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
  if (episode.state !== "published")
    return c.json({ error: `episode is ${episode.state}: only a published episode can be unpublished` }, 409);
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
  if (episode.state === "uploading")
    return c.json({ error: "episode is still uploading: terminate the upload with a tus DELETE on its upload URL" }, 409);
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

/**
 * `PUT /episodes/:id/chapters`: Podcasting 2.0 JSON chapters (or a bare array of chapters); replaces the
 * episode's, the upload's included. An empty list (or `DELETE`) removes them.
 */
episodeRoutes.put("/:episodeId/chapters", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  if (Number(c.req.header("Content-Length") ?? "0") > MAX_CHAPTERS_BYTES)
    return c.json({ error: `chapters must be at most ${MAX_CHAPTERS_BYTES} bytes` }, 413);
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    return c.json({ error: "chapters must be JSON (application/json+chapters)" }, 400);
  }
  const list = Array.isArray(value) ? value : (value as { chapters?: unknown } | null)?.chapters;
  if (Array.isArray(list) && list.length === 0) return supplyChapters(c, episode, []);
  let chapters: Chapter[];
  try {
    chapters = parseChapters(value, episode.durationSeconds !== undefined ? { durationSeconds: episode.durationSeconds } : {});
  } catch (err) {
    if (err instanceof InvalidChaptersError) return c.json({ error: err.message }, 400);
    throw err;
  }
  return supplyChapters(c, episode, chapters);
});

/** `DELETE /episodes/:id/chapters`: no chapters, in the feed or in the audio files. */
episodeRoutes.delete("/:episodeId/chapters", async (c) => {
  const episode = await ownEpisode(c);
  if (episode instanceof Response) return episode;
  return supplyChapters(c, episode, []);
});

/**
 * Stores the creator's chapters (keys.suppliedChapters: they win over the upload's wherever chapters are
 * written), publishes chapters.json, and, when the episode's renditions exist and carry other chapters,
 * sends the job that re-tags them (edge/episodes/retag-job.ts). Until it has run the record's
 * `chaptersRetag` is `pending`; the feed keeps the old files meanwhile. While the episode is being
 * processed the change is refused (409): the pipeline would not see chapters stored after it embedded its own.
 */
async function supplyChapters(c: Context<ShowAccess>, episode: Episode, chapters: Chapter[]): Promise<Response> {
  if (inPipeline(episode)) return busy(c, episode);
  const { podcastId, episodeId } = episode;
  const supplied = await suppliedChapters(chapters);
  await c.env.MEDIA.put(keys.suppliedChapters(podcastId, episodeId), JSON.stringify(supplied), {
    httpMetadata: { contentType: "application/json" },
  });
  const file = "chapters.json";
  if (chapters.length) {
    await c.env.MEDIA.put(keys.media(podcastId, episodeId, file), renderChaptersJson(chapters), {
      httpMetadata: { contentType: CHAPTERS_CONTENT_TYPE, cacheControl: EDITABLE_CACHE },
    });
  }
  const url = publicUrl(c.env.PUBLIC_BASE_URL, publicPaths.media(podcastId, episodeId, file));
  const carrier = requestTrace();
  const noChapters = await chaptersRevision([]);
  const updated = await changeRecord(c, episode, (current) => {
    const { chapters: _old, ...rest } = current;
    const next: Episode = chapters.length ? { ...rest, chapters: { url, count: chapters.length } } : rest;
    const renditionsExist = current.state === "published" && (current.renditions?.length ?? 0) > 0;
    // What the files carry: the supplied revision they were written with, else the upload's chapters
    // (none when the record lists none: removing them then rewrites nothing).
    const carried = current.embeddedChapters ?? (current.chapters ? undefined : noChapters);
    if (renditionsExist && carried !== supplied.revision) {
      next.chaptersRetag = {
        state: "pending",
        revision: supplied.revision,
        traceId: traceIdOf(carrier),
        requestedAt: new Date().toISOString(),
      };
    } else if (current.chaptersRetag?.state === "pending") {
      // Back to what the renditions already carry: the pending re-tag has nothing left to do.
      next.chaptersRetag = { ...current.chaptersRetag, state: "done", revision: supplied.revision, finishedAt: new Date().toISOString() };
    }
    return next;
  });
  if (updated instanceof Response) return updated;
  // Out of the feed first (changeRecord rewrote it), then the file: no app is pointed at a missing chapters.json.
  if (!chapters.length) await c.env.MEDIA.delete(keys.media(podcastId, episodeId, file));
  if (updated.chaptersRetag?.state === "pending" && updated.chaptersRetag.revision === supplied.revision) {
    try {
      await c.env.JOBS.send(retagJobFor(updated, carrier), { contentType: "json" });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return c.json(
        { error: `chapters stored, but writing them into the audio files could not be started (${reason}): send them again` },
        503,
      );
    }
  }
  return answer(c, updated);
}
