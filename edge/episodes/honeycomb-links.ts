/**
 * Links from an episode to its telemetry in Honeycomb, for the status API:
 * its trace (the waterfall from audio.upload to the last stage) and a query
 * for every span tagged with its audio.episode.id (the trace plus each tus
 * request's own short trace). Honeycomb searches a trace only within the
 * time range the link gives (about two hours without one), and an upload
 * may span days, so both links carry the episode's own times.
 */
import type { Episode } from "../../shared/episode.ts";
import { ATTR, SERVICE_NAMES } from "../../shared/telemetry.ts";

export interface HoneycombSettings {
  /** Team and environment slugs, as in the Honeycomb UI's URLs. Without both, no links. */
  HONEYCOMB_TEAM?: string;
  HONEYCOMB_ENVIRONMENT?: string;
  /** The edge's dataset (where audio.upload lands); default OTEL_SERVICE_NAME. */
  HONEYCOMB_DATASET?: string;
  /** https://ui.honeycomb.io by default; https://ui.eu1.honeycomb.io for the EU instance. */
  HONEYCOMB_UI_URL?: string;
  OTEL_SERVICE_NAME?: string;
}

export interface HoneycombLinks {
  trace: string;
  spans: string;
}

/** Spans are exported after the state they describe is written: the window stays open a little past it. */
const BEFORE_SECONDS = 60;
const AFTER_SECONDS = 600;

function slug(v: string | undefined): string | undefined {
  const s = v?.trim();
  return s ? encodeURIComponent(s) : undefined;
}

/** From the upload's creation to its end (published or failed), or to now while it is still under way. */
function window(e: Episode, now: Date): { start: number; end: number } {
  const settled = e.state === "published" || e.state === "failed";
  const endMs = settled ? Date.parse(e.publishedAt ?? e.updatedAt) : now.getTime();
  return {
    start: Math.floor(Date.parse(e.createdAt) / 1000) - BEFORE_SECONDS,
    end: Math.ceil(Math.max(endMs, Date.parse(e.updatedAt)) / 1000) + AFTER_SECONDS,
  };
}

export function honeycombLinks(settings: HoneycombSettings, e: Episode, now = new Date()): HoneycombLinks | undefined {
  const team = slug(settings.HONEYCOMB_TEAM);
  const environment = slug(settings.HONEYCOMB_ENVIRONMENT);
  if (!team || !environment) return undefined;
  const dataset = slug(settings.HONEYCOMB_DATASET) ?? slug(settings.OTEL_SERVICE_NAME) ?? SERVICE_NAMES.edge;
  const ui = (settings.HONEYCOMB_UI_URL?.trim() || "https://ui.honeycomb.io").replace(/\/+$/, "");
  const base = `${ui}/${team}/environments/${environment}/datasets/${dataset}`;
  const { start, end } = window(e, now);

  const trace = new URL(`${base}/trace`);
  trace.searchParams.set("trace_id", e.traceId);
  trace.searchParams.set("trace_start_ts", String(start));
  trace.searchParams.set("trace_end_ts", String(end));

  // A query template link: every span carrying the episode's id, by name and trace.
  const spans = new URL(base);
  spans.searchParams.set(
    "query",
    JSON.stringify({
      start_time: start,
      end_time: end,
      calculations: [{ op: "COUNT" }],
      filters: [{ column: ATTR.episodeId, op: "=", value: e.episodeId }],
      breakdowns: ["trace.trace_id", "name"],
    }),
  );
  return { trace: trace.href, spans: spans.href };
}
