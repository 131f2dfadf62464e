/**
 * GET /upload: a minimal page for creators to upload an episode from a
 * browser, with tus-js-client (served from here too: the page loads nothing
 * from anywhere else). The page, its script and style are plain files that
 * wrangler's bundler inlines as text (import attributes, no build rule needed).
 * Before sending, the page checks the file with ffmpeg.wasm: its small JS is
 * bundled here, its 31 MB core comes from R2 (see shared/page-tools.ts).
 */
import { Hono } from "hono";
import type { Env } from "../env.ts";
import tusClient from "tus-js-client/dist/tus.min.js" with { type: "text" };
import ffmpegClient from "../../node_modules/@ffmpeg/ffmpeg/dist/umd/ffmpeg.js" with { type: "text" };
import ffmpegWorker from "../../node_modules/@ffmpeg/ffmpeg/dist/umd/814.ffmpeg.js" with { type: "text" };
import page from "./page.html" with { type: "text" };
import style from "./page.css" with { type: "text" };
import script from "./upload-page.js" with { type: "text" };
import checkScript from "./file-check.js" with { type: "text" };
import { requirePodcast, type PodcastAuth } from "../podcasts/auth.ts";
import { publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import { FFMPEG_CORE_FILES, ffmpegCoreKey, type FfmpegCoreFile } from "../../shared/page-tools.ts";
import { serveObject } from "../delivery/serve-object.ts";
import { judgeInput, INPUT_RULES, type ProbedInput } from "../../shared/input-rules.ts";

export const uploadPageRoutes = new Hono<{ Bindings: Env }>();

/**
 * Everything from this origin only; no inline code, no framing, forms post back here only.
 * 'wasm-unsafe-eval' lets ffmpeg.wasm compile its WebAssembly (and nothing else: no eval of JS);
 * its worker script comes from this origin, which default-src already allows.
 */
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
} as const;

/** A waveform bar chart, so the tab is recognisable (and browsers find an icon instead of a 404). */
const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f4e79"/>' +
  '<path d="M3 7v2M5.5 5v6M8 3v10M10.5 5v6M13 7v2" stroke="#fff" stroke-width="1.5" stroke-linecap="round"/></svg>';

function asset(body: string, contentType: string, cacheControl: string): Response {
  return new Response(body, { headers: { ...SECURITY_HEADERS, "Content-Type": contentType, "Cache-Control": cacheControl } });
}

const JS = "text/javascript; charset=utf-8";
uploadPageRoutes.get("/", () => asset(page, "text/html; charset=utf-8", "no-cache"));
uploadPageRoutes.get("/page.js", () => asset(script, JS, "no-cache"));
uploadPageRoutes.get("/file-check.js", () => asset(checkScript, JS, "no-cache"));
uploadPageRoutes.get("/page.css", () => asset(style, "text/css; charset=utf-8", "no-cache"));
uploadPageRoutes.get("/icon.svg", () => asset(ICON, "image/svg+xml", "public, max-age=86400"));
// Change only with the deployed version: a day in caches is plenty.
uploadPageRoutes.get("/tus.min.js", () => asset(tusClient, JS, "public, max-age=86400"));
uploadPageRoutes.get("/ffmpeg/ffmpeg.js", () => asset(ffmpegClient, JS, "public, max-age=86400"));
// The worker chunk: ffmpeg.js loads it by this name from its own folder.
uploadPageRoutes.get("/ffmpeg/814.ffmpeg.js", () => asset(ffmpegWorker, JS, "public, max-age=86400"));

/** The wasm core and its loader, from R2 (public/_app/...); immutable per version. */
uploadPageRoutes.on(["GET", "HEAD"], "/ffmpeg-core/:file", async (c) => {
  const file = c.req.param("file");
  if (!Object.hasOwn(FFMPEG_CORE_FILES, file)) return c.json({ error: "not found" }, 404);
  const res = await serveObject(c.env.MEDIA, ffmpegCoreKey(file as FfmpegCoreFile), c.req.raw);
  if (res.status === 404) {
    return c.json({ error: 'the file checker is not installed: put @ffmpeg/core into R2 (README, "Uploading from a browser")' }, 404);
  }
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  return new Response(res.body, { status: res.status, headers });
});

/** Which show a token uploads to: the page names it, and a wrong token is caught before any upload starts. */
const whoami = new Hono<PodcastAuth>();
whoami.use("*", requirePodcast);
whoami.get("/", (c) => {
  const podcast = c.var.podcast;
  return c.json(
    { podcastId: podcast.podcastId, title: podcast.title, feedUrl: publicUrl(c.env.PUBLIC_BASE_URL, publicPaths.feed(podcast.podcastId)) },
    200,
    { "Cache-Control": "no-store" },
  );
});
uploadPageRoutes.route("/whoami", whoami);

/**
 * The verdict on what the page's ffmpeg.wasm found in a file, by the same
 * rules and in the same words as the processor (shared/input-rules.ts). Only
 * figures are sent, never the file; no token needed, nothing is stored.
 */
uploadPageRoutes.post("/check", async (c) => {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return c.json({ error: "body must be JSON" }, 400);
  }
  const probed = probedInput(body);
  if (typeof probed === "string") return c.json({ error: probed }, 400);
  const max = Number(c.env.MAX_DURATION_SECONDS) > 0 ? Number(c.env.MAX_DURATION_SECONDS) : INPUT_RULES.defaultMaxDurationSeconds;
  const refused = judgeInput(probed, max);
  return c.json(refused ? { accepted: false, ...refused } : { accepted: true, maxDurationSeconds: max });
});

/** The figures, checked field by field; a message naming the first bad one otherwise. */
function probedInput(body: unknown): ProbedInput | string {
  if (!body || typeof body !== "object") return "body must be a JSON object";
  const b = body as Record<string, unknown>;
  if (typeof b.sizeBytes !== "number" || !(b.sizeBytes >= 0)) return "sizeBytes must be a number of bytes";
  if (typeof b.recognised !== "boolean") return "recognised must be true or false";
  if (typeof b.hasVideo !== "boolean") return "hasVideo must be true or false";
  if (b.audioCodec !== undefined && (typeof b.audioCodec !== "string" || !/^[\w.-]{1,40}$/.test(b.audioCodec))) {
    return "audioCodec must be a codec name such as mp3";
  }
  // JSON has no NaN: an unknown duration arrives as null.
  const duration = b.durationSeconds === null ? NaN : b.durationSeconds;
  if (typeof duration !== "number") return "durationSeconds must be a number or null";
  let decode: ProbedInput["decode"];
  if (b.decode !== undefined) {
    const d = b.decode as Record<string, unknown>;
    if (!d || typeof d !== "object" || typeof d.errors !== "number") return "decode.errors must be a number";
    const short = (v: unknown) => (typeof v === "string" && v !== "" ? v.slice(0, 200) : undefined);
    decode = { errors: d.errors, firstError: short(d.firstError), failure: short(d.failure) };
  }
  return {
    sizeBytes: b.sizeBytes,
    recognised: b.recognised,
    hasVideo: b.hasVideo,
    durationSeconds: duration,
    ...(typeof b.audioCodec === "string" ? { audioCodec: b.audioCodec } : {}),
    ...(decode ? { decode } : {}),
  };
}

// Without its script the form would fall back to a plain POST: say why nothing happened (the body is never read).
uploadPageRoutes.post(
  "/",
  () =>
    new Response("This page needs JavaScript to upload: the file is sent in resumable pieces by its script.", {
      status: 400,
      headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" },
    }),
);
