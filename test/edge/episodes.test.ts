// GET /episodes/:id in workerd under wrangler dev: an episode's state through
// its life (uploading with bytes received, queued, processing with its stage,
// published with rendition URLs, failed with a reason) and who may read it.
// Uploads are real tus-js-client uploads; where the processor would move the
// episode on, the test writes the record through the S3 API exactly as the
// processor does (the processor has its own tests), or a fake processor
// answers the dispatch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../shared/storage-keys.ts";
import type { Episode } from "../../shared/episode.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { getObject, localS3, putObject } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { startFakeProcessor, type FakeProcessor } from "../support/fake-processor.ts";
import { toneWav, uploadEpisode } from "../support/upload-episode.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let processor: FakeProcessor;
let wav: Buffer;
let show: CreatedPodcast;
let otherShow: CreatedPodcast;
let episodeId: string;

beforeAll(async () => {
  processor = await startFakeProcessor();
  [stack, wav] = await Promise.all([startTestStack({ edgeVars: { PROCESSOR_URL: processor.url } }), toneWav(2)]);
  [show, otherShow] = await Promise.all([createPodcast(stack), createPodcast(stack, { title: "Another Show" })]);
  // The processor is busy for this show: jobs stay queued (next attempt after the default 30 s backoff).
  processor.script(show.podcastId, [{ status: 503, body: { outcome: "retry", reason: "busy" } }]);
  ({ episodeId } = await uploadEpisode({
    edgeUrl: stack.edgeUrl,
    uploadToken: show.uploadToken,
    bytes: wav,
    title: "Status",
    filename: "status.wav",
  }));
});
afterAll(async () => {
  await stack?.cleanup();
  await processor?.stop();
});

const get = (id: string, token?: string) =>
  fetch(`${stack.edgeUrl}/episodes/${id}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

// biome-ignore lint/suspicious/noExplicitAny: the status API's JSON, read field by field by each test
type Status = Record<string, any>;

async function status(id: string, token = show.uploadToken): Promise<Status> {
  const res = await get(id, token);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as Status;
}

async function record(id: string): Promise<Episode> {
  return JSON.parse(new TextDecoder().decode(await getObject(localS3(stack), keys.episode(id))));
}

async function writeRecord(e: Episode) {
  await putObject(localS3(stack), keys.episode(e.episodeId), JSON.stringify(e), "application/json");
}

describe("GET /episodes/:id access", () => {
  it("401 without a token, 403 with a token that is neither an upload token nor the admin token", async () => {
    const none = await get(episodeId);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await get(episodeId, "nonsense-token")).status).toBe(403);
    const forged = `pp_${show.podcastId}_${"A".repeat(43)}`;
    const res = await get(episodeId, forged);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain(forged);
  });

  it("lets the podcast's upload token and the admin token read it; another podcast's token gets 404", async () => {
    expect((await status(episodeId, show.uploadToken)).episodeId).toBe(episodeId);
    expect((await status(episodeId, stack.adminToken)).episodeId).toBe(episodeId);
    const foreign = await get(episodeId, otherShow.uploadToken);
    expect(foreign.status).toBe(404);
    // Indistinguishable from an episode that does not exist.
    const missing = await get("00000000-0000-4000-8000-000000000000", otherShow.uploadToken);
    expect(missing.status).toBe(404);
    expect(await foreign.json()).toEqual(await missing.json());
    expect((await get("..%2Fpodcasts", stack.adminToken)).status).toBe(404);
  });
});

describe("GET /episodes/:id states", () => {
  it("uploading: shows bytes received of the total, and the trace id", async () => {
    const { episodeId: id } = await uploadEpisode({
      edgeUrl: stack.edgeUrl,
      uploadToken: show.uploadToken,
      bytes: wav,
      chunkSize: 64 * 1024,
      stopAfterBytes: 128 * 1024,
    });
    const s = await status(id);
    expect(s.state).toBe("uploading");
    expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.upload).toEqual({ bytesReceived: 128 * 1024, totalBytes: wav.length });
    expect(s).not.toHaveProperty("renditions");
  });

  it("queued: after the upload completed, with its size and upload time; a failed hand-off shows as the last retry", async () => {
    await processor.waitForJobs(episodeId, 1);
    const s = await status(episodeId);
    expect(s).toMatchObject({
      episodeId,
      podcastId: show.podcastId,
      state: "queued",
      size: wav.length,
      filename: "status.wav",
      title: "Status",
    });
    expect(Date.parse(s.uploadedAt)).toBeGreaterThan(Date.parse(s.createdAt) - 1);
    expect(s.lastRetry).toMatchObject({ attempt: 0, delivery: 1, reason: "processor answered 503: busy" });
    expect(s.traceId).toBe((await record(episodeId)).traceId);
    expect(s).not.toHaveProperty("upload");
  });

  it("processing: shows the stage the processor is running", async () => {
    const e = await record(episodeId);
    await writeRecord({ ...e, state: "processing", stage: "transcode", attempts: 1, updatedAt: new Date().toISOString() });
    const s = await status(episodeId);
    expect(s).toMatchObject({ state: "processing", stage: "transcode", attempts: 1 });
  });

  it("published: lists every rendition with its public URL", async () => {
    const e = await record(episodeId);
    const renditions = RENDITIONS.map((r) => ({
      id: r.id,
      key: keys.media(show.podcastId, episodeId, r.file),
      url: `${stack.edgeUrl}/media/${show.podcastId}/${episodeId}/${r.file}`,
      mimeType: r.mimeType,
      bytes: 1000,
      bitrateKbps: r.bitrateKbps,
      sampleRate: r.sampleRate,
      durationSeconds: 2,
    }));
    const { stage: _stage, ...rest } = e;
    await writeRecord({ ...rest, state: "published", publishedAt: new Date().toISOString(), durationSeconds: 2, renditions });
    const s = await status(episodeId, stack.adminToken);
    expect(s.state).toBe("published");
    expect(s).not.toHaveProperty("stage");
    expect(s).not.toHaveProperty("lastRetry");
    expect(s.renditions).toEqual(
      renditions.map(({ id, url, mimeType, bytes, bitrateKbps }) => ({ id, url, mimeType, bytes, bitrateKbps })),
    );
  });

  it("failed: gives the reason and whether retrying could help", async () => {
    const rejectedShow = await createPodcast(stack);
    processor.script(rejectedShow.podcastId, [{ status: 422, body: { outcome: "rejected", reason: "audio shorter than 1 second" } }]);
    const { episodeId: id } = await uploadEpisode({ edgeUrl: stack.edgeUrl, uploadToken: rejectedShow.uploadToken, bytes: wav });
    await processor.waitForJobs(id, 1);
    const deadline = Date.now() + 15_000;
    let s = await status(id, rejectedShow.uploadToken);
    while (s.state !== "failed" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      s = await status(id, rejectedShow.uploadToken);
    }
    expect(s).toMatchObject({ state: "failed", failure: { reason: "audio shorter than 1 second", permanent: true } });
  });

  it("a terminated upload leaves no episode behind: 404", async () => {
    const { uploadUrl, episodeId: id } = await uploadEpisode({
      edgeUrl: stack.edgeUrl,
      uploadToken: show.uploadToken,
      bytes: wav,
      chunkSize: 64 * 1024,
      stopAfterBytes: 64 * 1024,
    });
    expect((await status(id)).state).toBe("uploading");
    const del = await fetch(uploadUrl, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${show.uploadToken}`, "Tus-Resumable": "1.0.0" },
    });
    expect(del.status).toBe(204);
    expect((await get(id, show.uploadToken)).status).toBe(404);
    expect(await getObject(localS3(stack), keys.episode(id))).toBeUndefined();
  });
});
