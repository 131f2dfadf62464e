/**
 * A trace as an operator reads it in Honeycomb's waterfall, printed as text:
 * each span under its parent, with its service, offset and duration.
 */
import { ATTR, SPANS } from "../shared/telemetry.ts";
import type { ReceivedSpan } from "./otlp-receiver.ts";

export function renderTraceTree(all: ReceivedSpan[], traceId: string): string {
  const spans = all.filter((s) => s.traceId === traceId).sort((a, b) => a.startTime - b.startTime);
  if (spans.length === 0) return `(no spans received for trace ${traceId})`;
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, ReceivedSpan[]>();
  for (const s of spans) {
    // A span whose parent never arrived is shown at the top, marked, rather than lost.
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const t0 = spans[0]!.startTime;
  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const orphan = depth === 0 && s.parentSpanId ? " (parent not received)" : "";
      const error = s.status.code === 2 ? ` ERROR: ${s.status.message ?? ""}` : "";
      const label = `${"  ".repeat(depth)}${s.name}`;
      lines.push(
        `${label.padEnd(44)} ${s.serviceName.padEnd(18)} +${fmt(s.startTime - t0).padStart(9)} ${fmt(s.endTime - s.startTime).padStart(9)}${orphan}${error}`,
      );
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join("\n");
}

/**
 * The traces that concern an episode: its own trace (rooted at audio.upload,
 * the upload through the last stage) and the short traces of each request
 * about it (tus requests, status reads), found as in Honeycomb by audio.episode.id.
 */
export function episodeTraces(all: ReceivedSpan[], episodeId: string): { episode?: string; requests: string[] } {
  const tagged = all.filter((s) => s.attributes[ATTR.episodeId] === episodeId);
  const episode = tagged.find((s) => s.name === SPANS.upload)?.traceId ?? tagged.find((s) => s.name === SPANS.pipeline)?.traceId;
  const requests = [...new Set(tagged.map((s) => s.traceId))].filter((id) => id !== episode);
  return { ...(episode ? { episode } : {}), requests };
}

/** What `bin/trace <episodeId>` prints. */
export function renderEpisodeTraces(all: ReceivedSpan[], episodeId: string, opts: { requests?: boolean } = {}): string {
  const { episode, requests } = episodeTraces(all, episodeId);
  if (!episode && requests.length === 0) return `(no spans received for episode ${episodeId})`;
  const parts: string[] = [];
  parts.push(
    episode
      ? `Episode ${episodeId}, trace ${episode}:\n${renderTraceTree(all, episode)}`
      : `Episode ${episodeId}: its trace's root (${SPANS.upload}) has not been received yet.`,
  );
  if (requests.length > 0) {
    if (opts.requests) for (const id of requests) parts.push(`Request trace ${id}:\n${renderTraceTree(all, id)}`);
    else parts.push(`(${requests.length} more traces of requests about it (tus, status): --requests prints them)`);
  }
  return parts.join("\n\n");
}
