/**
 * Names the request span otel-cf-workers opened ("fetchHandler PATCH") by its
 * route and tags it with the episode it concerns, so every tus request of an
 * upload is found by `audio.episode.id` next to the upload's own trace.
 */
import { trace } from "@opentelemetry/api";
import { ATTR } from "../../shared/telemetry.ts";

const EPISODE_ROUTES = /^\/(uploads|episodes)\/([A-Za-z0-9_-]{1,64})\/?$/;

export function describeRequestSpan(request: Request): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  const m = EPISODE_ROUTES.exec(new URL(request.url).pathname);
  if (!m) return;
  // otel-cf-workers renames the span to "<METHOD> <http.route>" when the handler returns.
  span.setAttribute("http.route", `/${m[1]}/:episodeId`);
  span.setAttribute(ATTR.episodeId, m[2]!);
}
