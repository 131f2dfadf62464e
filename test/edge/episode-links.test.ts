// From an episode to its trace in one click: GET /episodes/:id returns a
// Honeycomb trace link and a query link for every span with its episode id,
// when the Worker knows its Honeycomb team and environment. The edge runs in
// workerd (wrangler dev); Honeycomb cannot be reached from here, so the links
// are checked for what Honeycomb's documented URL formats need: the trace id,
// and a time range that holds the whole episode (an upload may span days).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Episode } from "../../shared/episode.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { honeycombLinks } from "../../edge/episodes/honeycomb-links.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { startFakeProcessor, type FakeProcessor } from "../support/fake-processor.ts";
import { toneWav, uploadEpisode } from "../support/upload-episode.ts";

let processor: FakeProcessor;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let podcast: CreatedPodcast;

beforeAll(async () => {
  processor = await startFakeProcessor();
  stack = await startTestStack({
    scheduleIntervalMs: 0,
    edgeVars: { PROCESSOR_URL: processor.url, HONEYCOMB_TEAM: "acme-audio", HONEYCOMB_ENVIRONMENT: "production" },
  });
  podcast = await createPodcast(stack);
});

afterAll(async () => {
  await stack?.cleanup();
  await processor?.stop();
});

const secs = (iso: string) => Date.parse(iso) / 1000;

describe("GET /episodes/:id with Honeycomb configured", () => {
  it("links the episode's trace with its trace id and a window from its creation to now, and its spans by episode id", async () => {
    const { episodeId } = await uploadEpisode({ edgeUrl: stack.edgeUrl, uploadToken: podcast.uploadToken, bytes: await toneWav(1) });
    const asked = Date.now() / 1000;
    const res = await fetch(`${stack.edgeUrl}/episodes/${episodeId}`, { headers: { Authorization: `Bearer ${podcast.uploadToken}` } });
    expect(res.status).toBe(200);
    const status = (await res.json()) as { traceId: string; createdAt: string; links?: { trace: string; spans: string } };
    expect(status.links).toBeDefined();

    const trace = new URL(status.links!.trace);
    expect(`${trace.origin}${trace.pathname}`).toBe(
      "https://ui.honeycomb.io/acme-audio/environments/production/datasets/podcast-edge/trace",
    );
    expect(trace.searchParams.get("trace_id")).toBe(status.traceId);
    const start = Number(trace.searchParams.get("trace_start_ts"));
    const end = Number(trace.searchParams.get("trace_end_ts"));
    expect(start).toBeLessThanOrEqual(secs(status.createdAt));
    // Not settled yet (the stand-in processor publishes nothing): the window reaches past now.
    expect(end).toBeGreaterThan(asked);

    const spans = new URL(status.links!.spans);
    expect(spans.pathname).toBe("/acme-audio/environments/production/datasets/podcast-edge");
    const query = JSON.parse(spans.searchParams.get("query")!);
    expect(query.filters).toEqual([{ column: ATTR.episodeId, op: "=", value: episodeId }]);
    expect([query.start_time, query.end_time]).toEqual([start, end]);
  });

  it("shows the same links to the admin token, and none to another show's token (404)", async () => {
    const { episodeId } = await uploadEpisode({ edgeUrl: stack.edgeUrl, uploadToken: podcast.uploadToken, bytes: await toneWav(1) });
    const admin = await fetch(`${stack.edgeUrl}/episodes/${episodeId}`, { headers: { Authorization: `Bearer ${stack.adminToken}` } });
    expect(((await admin.json()) as { links?: unknown }).links).toBeDefined();
    const other = await createPodcast(stack);
    const res = await fetch(`${stack.edgeUrl}/episodes/${episodeId}`, { headers: { Authorization: `Bearer ${other.uploadToken}` } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("honeycomb");
  });
});

describe("honeycombLinks", () => {
  const episode: Episode = {
    episodeId: "ep_1",
    podcastId: "pod_1",
    title: "t",
    filename: "f.wav",
    sourceKey: "uploads/pod_1/ep_1/source",
    state: "published",
    traceId: "0af7651916cd43dd8448eb211c80319c",
    attempts: 1,
    // An upload that took two days, published an hour after its last byte.
    createdAt: "2026-11-01T10:00:00.000Z",
    uploadedAt: "2026-11-03T10:00:00.000Z",
    publishedAt: "2026-11-03T11:00:00.000Z",
    updatedAt: "2026-11-03T11:00:00.000Z",
  };
  const settings = { HONEYCOMB_TEAM: "acme", HONEYCOMB_ENVIRONMENT: "prod" };

  it("spans a published episode from its creation to its publication, whenever it is asked", () => {
    const links = honeycombLinks(settings, episode, new Date("2026-12-01T00:00:00Z"))!;
    const trace = new URL(links.trace);
    const [start, end] = [Number(trace.searchParams.get("trace_start_ts")), Number(trace.searchParams.get("trace_end_ts"))];
    expect(start).toBeLessThanOrEqual(secs(episode.createdAt));
    expect(start).toBeGreaterThan(secs(episode.createdAt) - 3600);
    expect(end).toBeGreaterThanOrEqual(secs(episode.publishedAt!));
    expect(end).toBeLessThan(secs(episode.publishedAt!) + 3600);
  });

  it("ends a failed episode's window at its last change", () => {
    const failed: Episode = { ...episode, state: "failed", publishedAt: undefined, updatedAt: "2026-11-02T08:00:00.000Z" };
    const end = Number(new URL(honeycombLinks(settings, failed, new Date("2026-12-01T00:00:00Z"))!.trace).searchParams.get("trace_end_ts"));
    expect(end).toBeGreaterThanOrEqual(secs(failed.updatedAt));
    expect(end).toBeLessThan(secs(failed.updatedAt) + 3600);
  });

  it("gives no links without both team and environment (the status then carries the trace id alone)", () => {
    expect(honeycombLinks({}, episode)).toBeUndefined();
    expect(honeycombLinks({ HONEYCOMB_TEAM: "acme" }, episode)).toBeUndefined();
    expect(honeycombLinks({ HONEYCOMB_TEAM: " ", HONEYCOMB_ENVIRONMENT: "prod" }, episode)).toBeUndefined();
  });

  it("uses the configured dataset and UI (EU), and escapes slugs", () => {
    const links = honeycombLinks(
      { ...settings, HONEYCOMB_ENVIRONMENT: "prod eu", HONEYCOMB_DATASET: "edge-eu", HONEYCOMB_UI_URL: "https://ui.eu1.honeycomb.io/" },
      episode,
    )!;
    expect(links.trace.startsWith("https://ui.eu1.honeycomb.io/acme/environments/prod%20eu/datasets/edge-eu/trace?")).toBe(true);
  });
});
