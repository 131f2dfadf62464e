// An operator's two actions on the whole local stack (wrangler dev with its
// real queues and dead letter queue, the Node processor with real ffmpeg):
// list episodes by state, and re-run a dead-lettered episode from its stored
// source with one authenticated request. Nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseFeed } from "podcast-partytime";
import { generateSpeech } from "../../local/sample-audio.ts";
import type { Episode } from "../../shared/episode.ts";
import { keys } from "../../shared/storage-keys.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { getEpisode, uploadFile, waitForOutcome } from "../support/episode-flow.ts";
import { listKeys, localS3 } from "../support/s3.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let dir: string;
let wav: string;
let show: CreatedPodcast;
let other: CreatedPodcast;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "operators-"));
  wav = path.join(dir, "episode.wav");
  [stack] = await Promise.all([
    startTestStack({
      processor: true,
      // Failed hand-offs retried after 1 s: the six deliveries and the dead letter take seconds.
      // Honeycomb itself is not reachable from here: only the links to it are checked.
      edgeVars: { DISPATCH_RETRY_BASE_SECONDS: "0", HONEYCOMB_TEAM: "pod-team", HONEYCOMB_ENVIRONMENT: "prod" },
      scheduleIntervalMs: 0,
    }),
    generateSpeech(wav, { seconds: 8, gainDb: -14 }),
  ]);
  [show, other] = await Promise.all([createPodcast(stack, { title: "Operated On" }), createPodcast(stack, { title: "Bystander" })]);
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const admin = (token = stack.adminToken) => ({ Authorization: `Bearer ${token}` });

async function listing(
  query: string,
  token?: string,
): Promise<{ status: number; body: { episodes?: Partial<Episode & { since: string }>[]; error?: string } }> {
  const res = await fetch(`${stack.edgeUrl}/operators/episodes${query}`, { headers: admin(token) });
  return { status: res.status, body: (await res.json()) as never };
}

const rerun = (episodeId: string, token?: string) =>
  fetch(`${stack.edgeUrl}/operators/episodes/${episodeId}/rerun`, { method: "POST", headers: admin(token) });

async function feedItems(podcastId: string): Promise<number> {
  return parseFeed(await (await fetch(`${stack.edgeUrl}/feeds/${podcastId}.xml`)).text())?.items.length ?? 0;
}

describe("operators", () => {
  let episodeId: string;

  it("a dead-lettered episode is listed as such, per show and across shows", async () => {
    // The processor is down: every hand-off fails until the queue dead-letters the job.
    await stack.stopProcessor();
    ({ episodeId } = await uploadFile(stack.edgeUrl, show.uploadToken, wav, { title: "Dead-lettered", filename: "dlq.wav" }));
    const { episode } = await waitForOutcome(stack.edgeUrl, show.uploadToken, episodeId, 90_000, () => stack.logs());
    expect(episode.failure).toMatchObject({
      permanent: false,
      deadLettered: true,
      reason: expect.stringMatching(/in 6 deliveries: processor unreachable/),
    });

    const acrossShows = await listing("?state=dead_lettered");
    expect(acrossShows.status).toBe(200);
    expect(acrossShows.body.episodes!.map((e) => e.episodeId)).toContain(episodeId);
    const perShow = await listing(`?state=failed&podcastId=${show.podcastId}`);
    expect(perShow.body.episodes).toEqual([expect.objectContaining({ episodeId, state: "failed", failure: episode.failure, attempts: 0 })]);
    expect((await listing(`?state=failed&podcastId=${other.podcastId}`)).body.episodes).toEqual([]);

    // Each line links to the episode's telemetry, as the status API does.
    const { links } = (await getEpisode(stack.edgeUrl, show.uploadToken, episodeId)) as Episode & {
      links?: { trace: string; spans: string };
    };
    expect(links?.trace).toMatch(
      /^https:\/\/ui\.honeycomb\.io\/pod-team\/environments\/prod\/datasets\/podcast-edge\/trace\?trace_id=[0-9a-f]{32}&/,
    );
    expect(perShow.body.episodes![0]).toMatchObject({ links });
    expect((await listing("?state=queued")).body.episodes!.map((e) => e.episodeId)).not.toContain(episodeId);

    // Closed to anyone but the admin; a bad filter names the field.
    expect((await listing("?state=failed", show.uploadToken)).status).toBe(403);
    expect((await fetch(`${stack.edgeUrl}/operators/episodes`)).status).toBe(401);
    expect(await listing("?state=lost")).toEqual({ status: 400, body: { error: expect.stringMatching(/^state must be one of/) } });
    expect((await rerun(episodeId, show.uploadToken)).status).toBe(403);
  }, 150_000);

  it("re-runs it from its stored source with one request: published once", async () => {
    await stack.startProcessor();
    const res = await rerun(episodeId);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ episodeId, state: "queued", rerun: true });
    const { episode } = await waitForOutcome(stack.edgeUrl, show.uploadToken, episodeId, 120_000, () => stack.logs());
    expect(episode.state).toBe("published");
    expect(episode.attempts).toBe(1);
    expect(await feedItems(show.podcastId)).toBe(1);
  }, 150_000);

  it("re-running a published episode does nothing: no job, no second feed entry", async () => {
    const before = await getEpisode(stack.edgeUrl, stack.adminToken, episodeId);
    const res = await rerun(episodeId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ episodeId, state: "published", rerun: false, reason: "already published" });
    await new Promise((r) => setTimeout(r, 4_000));
    const after = await getEpisode(stack.edgeUrl, stack.adminToken, episodeId);
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(after.attempts).toBe(1);
    expect(await feedItems(show.podcastId)).toBe(1);
    expect(await listKeys(localS3(stack), keys.publishedPrefix(show.podcastId))).toHaveLength(1);
  });

  it("refuses to re-run an episode that is not failed, or does not exist", async () => {
    const created = await fetch(`${stack.edgeUrl}/uploads`, {
      method: "POST",
      headers: {
        ...admin(show.uploadToken),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "5000",
        "Upload-Metadata": `title ${btoa("Half")},filename ${btoa("half.wav")}`,
      },
    });
    const uploading = created.headers.get("Episode-Id")!;
    const res = await rerun(uploading);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toMatch(/episode is uploading: only a failed episode can be re-run/);
    expect((await rerun("no-such-episode")).status).toBe(404);
  });
});
