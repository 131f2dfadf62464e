/**
 * GET /upload: a minimal page for creators to upload an episode from a
 * browser, with tus-js-client (served from here too: the page loads nothing
 * from anywhere else). The page, its script and style are plain files that
 * wrangler's bundler inlines as text (import attributes, no build rule needed).
 */
import { Hono } from "hono";
import type { Env } from "../env.ts";
import tusClient from "tus-js-client/dist/tus.min.js" with { type: "text" };
import page from "./page.html" with { type: "text" };
import style from "./page.css" with { type: "text" };
import script from "./upload-page.js" with { type: "text" };

export const uploadPageRoutes = new Hono<{ Bindings: Env }>();

/** Everything from this origin only; no inline code, no framing, forms post back here only. */
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
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

uploadPageRoutes.get("/", () => asset(page, "text/html; charset=utf-8", "no-cache"));
uploadPageRoutes.get("/page.js", () => asset(script, "text/javascript; charset=utf-8", "no-cache"));
uploadPageRoutes.get("/page.css", () => asset(style, "text/css; charset=utf-8", "no-cache"));
uploadPageRoutes.get("/icon.svg", () => asset(ICON, "image/svg+xml", "public, max-age=86400"));
// Changes only with the deployed version: a day in caches is plenty.
uploadPageRoutes.get("/tus.min.js", () => asset(tusClient, "text/javascript; charset=utf-8", "public, max-age=86400"));
// Without its script the form would fall back to a plain POST: say why nothing happened (the body is never read).
uploadPageRoutes.post("/", () =>
  new Response("This page needs JavaScript to upload: the file is sent in resumable pieces by its script.", {
    status: 400,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" },
  }),
);
