// The edge between "upload complete" and the processor, in workerd under
// wrangler dev (real Queues simulation, real retries and dead letter queue
// from wrangler.toml): a completed tus upload becomes a queue message, the
// consumer hands it to the processor over HTTP with the trace context, and
// the processor's answer decides ack, retry or dead letter. The processor
// itself is a fake HTTP server here (the real one has its own tests): the
// edge's behaviour under each answer is what is tested.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../shared/storage-keys.ts";
import { parseEpisodeJob } from "../../shared/job.ts";
import { jobSignatureProblem, SIGNATURE_HEADER } from "../../shared/job-signature.ts";
import type { Episode } from "../../shared/episode.ts";
import { retryDelaySeconds, retryBaseSeconds, MAX_DELAY_SECONDS } from "../../edge/queue/backoff.ts";
import { getObject, localS3 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { startFakeProcessor, type FakeProcessor } from "../support/fake-processor.ts";
import { toneWav, uploadEpisode } from "../support/upload-episode.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let processor: FakeProcessor;
let wav: Buffer;

beforeAll(async () => {
  processor = await startFakeProcessor();
  [stack, wav] = await Promise.all([
    startTestStack({
      // Retry after 1 s: wrangler.toml's max_retries (5) and dead letter queue still apply.
      edgeVars: { PROCESSOR_URL: processor.url, DISPATCH_RETRY_BASE_SECONDS: "0" },
    }),
    toneWav(2),
  ]);
});
afterAll(async () => {
  await stack?.cleanup();
  await processor?.stop();
});

const upload = (podcast: CreatedPodcast) =>
  uploadEpisode({
    edgeUrl: stack.edgeUrl,
    uploadToken: podcast.uploadToken,
    bytes: wav,
    title: "Queue test",
    filename: "queue-test.wav",
  });

async function storedEpisode(episodeId: string): Promise<Episode> {
  const bytes = await getObject(localS3(stack), keys.episode(episodeId));
  if (!bytes) throw new Error(`no episode record for ${episodeId}`);
  return JSON.parse(new TextDecoder().decode(bytes)) as Episode;
}

async function waitForEpisode(episodeId: string, done: (e: Episode) => boolean, timeoutMs = 30_000): Promise<Episode> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await storedEpisode(episodeId);
    if (done(e)) return e;
    if (Date.now() > deadline) throw new Error(`episode ${episodeId} still ${JSON.stringify(e)}\n${stack.logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Long enough for the queue to redeliver (retry delay 1 s, batch timeout 1 s) if the message had not been acked. */
const settleTime = () => new Promise((r) => setTimeout(r, 4_000));

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$/;

describe("queue dispatch", () => {
  it("hands the completed upload's job to the processor once, signed, with a traceparent in the episode's trace", async () => {
    const podcast = await createPodcast(stack);
    processor.script(podcast.podcastId, [{ status: 202 }]);
    const { episodeId } = await upload(podcast);
    const [delivery] = await processor.waitForJobs(episodeId, 1);
    const job = parseEpisodeJob(delivery!.job);
    expect(job).toMatchObject({
      version: 1,
      episodeId,
      podcastId: podcast.podcastId,
      sourceKey: keys.source(podcast.podcastId, episodeId),
      size: wav.length,
      filename: "queue-test.wav",
      title: "Queue test",
    });

    // Signed with the stack's JOB_SIGNING_SECRET (which reached the Worker through its env file, not argv).
    expect(await jobSignatureProblem(stack.signingSecret, delivery!.raw, String(delivery!.headers[SIGNATURE_HEADER]))).toBeUndefined();
    expect(
      await jobSignatureProblem("another-secret-of-sufficient-length!!", delivery!.raw, String(delivery!.headers[SIGNATURE_HEADER])),
    ).toMatch(/does not match/);

    // 202 accepted: the run (here: none) reports through the record; the message is acked.
    const episode = await storedEpisode(episodeId);
    expect(episode.state).toBe("queued");
    expect(episode.size).toBe(wav.length);
    expect(episode.uploadedAt).toBe(job.uploadedAt);

    // The header continues the trace the message carried: same trace, a new (child) span.
    const header = TRACEPARENT.exec(String(delivery!.headers.traceparent));
    const carried = TRACEPARENT.exec(job.trace.traceparent);
    expect(header, String(delivery!.headers.traceparent)).not.toBeNull();
    expect(header![1]).toBe(episode.traceId);
    expect(carried![1]).toBe(episode.traceId);
    expect(header![2]).not.toBe(carried![2]);

    await settleTime();
    expect(processor.jobs(episodeId)).toHaveLength(1);
  });

  it("retries a 503, keeping the reason and delivery on the episode, and acks once the processor accepts", async () => {
    const podcast = await createPodcast(stack);
    processor.script(podcast.podcastId, [
      { status: 503, body: { outcome: "retry", reason: "storage timed out" } },
      { status: 503, body: { outcome: "retry", reason: "storage timed out again" } },
      { status: 202 },
    ]);
    const { episodeId } = await upload(podcast);
    await processor.waitForJobs(episodeId, 3);
    const episode = await storedEpisode(episodeId);
    // attempt: runs started (none: the processor never took it); delivery: the queue's count.
    expect(episode.lastRetry).toMatchObject({ attempt: 0, delivery: 2, reason: "processor answered 503: storage timed out again" });
    expect(episode.attempts).toBe(0);
    await settleTime();
    expect(processor.jobs(episodeId)).toHaveLength(3);
  });

  it("after max_retries (5) the dead letter handler marks the episode failed (dead-lettered) with the last reason", async () => {
    const podcast = await createPodcast(stack);
    processor.script(podcast.podcastId, [{ status: 503, body: { outcome: "retry", reason: "ffmpeg was killed" } }]);
    const { episodeId } = await upload(podcast);
    const failed = await waitForEpisode(episodeId, (e) => e.state === "failed", 60_000);
    expect(failed.failure).toEqual({
      permanent: false,
      deadLettered: true,
      reason: "could not hand the job to the processor in 6 deliveries: processor answered 503: ffmpeg was killed",
    });
    // One meaning: no run ever started.
    expect(failed.attempts).toBe(0);
    expect(processor.jobs(episodeId)).toHaveLength(6);
    await settleTime();
    expect(processor.jobs(episodeId)).toHaveLength(6);

    const status = await fetch(`${stack.edgeUrl}/episodes/${episodeId}`, { headers: { Authorization: `Bearer ${podcast.uploadToken}` } });
    expect(await status.json()).toMatchObject({ state: "failed", failure: { permanent: false, reason: failed.failure!.reason } });
  });

  it("acks a 422 without retrying; the episode is failed permanently with the processor's reason", async () => {
    const podcast = await createPodcast(stack);
    processor.script(podcast.podcastId, [{ status: 422, body: { outcome: "rejected", reason: "not audio: no audio stream found" } }]);
    const { episodeId } = await upload(podcast);
    await processor.waitForJobs(episodeId, 1);
    const failed = await waitForEpisode(episodeId, (e) => e.state === "failed");
    expect(failed.failure).toEqual({ permanent: true, reason: "not audio: no audio stream found" });
    await settleTime();
    expect(processor.jobs(episodeId)).toHaveLength(1);
  });

  it("treats a dropped connection as transient: retried, reason recorded", async () => {
    const podcast = await createPodcast(stack);
    processor.script(podcast.podcastId, ["drop", { status: 202 }]);
    const { episodeId } = await upload(podcast);
    await processor.waitForJobs(episodeId, 2);
    const episode = await storedEpisode(episodeId);
    expect(episode.lastRetry?.delivery).toBe(1);
    expect(episode.lastRetry?.reason).toMatch(/^processor unreachable at http:\/\/127\.0\.0\.1:\d+: connection refused or dropped/);
    await settleTime();
    expect(processor.jobs(episodeId)).toHaveLength(2);
  });

  it('acks the processor\'s "published" answer (a duplicate of a done job): no redelivery', async () => {
    const podcast = await createPodcast(stack);
    processor.script(podcast.podcastId, [{ status: 200 }]);
    const { episodeId } = await upload(podcast);
    await processor.waitForJobs(episodeId, 1);
    await settleTime();
    expect(processor.jobs(episodeId)).toHaveLength(1);
  });

  it("runs without any OTLP endpoint configured: no export attempts, no telemetry errors", () => {
    expect(stack.logs()).not.toMatch(/OTLP export|exporting spans failed|Config is undefined/);
  });
});

describe("retry backoff", () => {
  it("doubles from the base per failed attempt, capped at the Queues maximum delay", () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelaySeconds(a, 30))).toEqual([30, 60, 120, 240, 480]);
    expect(retryDelaySeconds(30, 30)).toBe(MAX_DELAY_SECONDS);
    // Never 0: the runtime would read it as "not set" and wait the queue's retry_delay (30 s) instead.
    expect(retryDelaySeconds(3, 0)).toBe(1);
    expect(retryBaseSeconds(undefined)).toBe(30);
    expect(retryBaseSeconds("0")).toBe(0);
    expect(retryBaseSeconds("nonsense")).toBe(30);
  });
});
