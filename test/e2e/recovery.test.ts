// Every episode reaches an end by itself, whatever is lost: the whole local
// stack (wrangler dev + the Node processor, real ffmpeg, tus-js-client) is
// killed and restarted under episodes in flight, and the sweep (the Worker's
// scheduled handler, driven through /__scheduled as the Cron Trigger drives
// it in production) brings each to published, once. Deadlines are shortened
// for the test (SWEEP_QUEUED_SECONDS, JOB_LEASE_SECONDS); nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseFeed } from "podcast-partytime";
import { freePort, startLocalStack, type LocalStack, type StackOptions } from "../../local/stack.ts";
import { generateSpeech } from "../../local/sample-audio.ts";
import { keys } from "../../shared/storage-keys.ts";
import type { Episode } from "../../shared/episode.ts";
import type { StageName } from "../../shared/telemetry.ts";
import { createPodcast, type CreatedPodcast } from "../support/stack.ts";
import { uploadFile, waitForOutcome } from "../support/episode-flow.ts";
import { getObject, listKeys, localS3 } from "../support/s3.ts";

let dataDir: string;
let audioDir: string;
let wav: string;
let stack: LocalStack;
let podcast: CreatedPodcast;
let options: StackOptions;

const SCHEDULE_MS = 1_000;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "recovery-"));
  audioDir = await mkdtemp(path.join(tmpdir(), "recovery-audio-"));
  wav = path.join(audioDir, "interview.wav");
  options = {
    dataDir: path.join(dataDir, "stack"),
    // Fixed across restarts: the Worker's PROCESSOR_URL names the processor's port.
    edgePort: await freePort(),
    processorPort: await freePort(),
    adminToken: `recovery-admin-${Date.now()}`,
    scheduleIntervalMs: SCHEDULE_MS,
    edgeVars: { SWEEP_QUEUED_SECONDS: "5" },
    // A killed run's lease expires 10 s after its last renewal (production: 60 s; renewals
    // go through wrangler dev's S3 endpoint, slow on a loaded machine).
    processorEnv: { JOB_LEASE_SECONDS: "10", FFMPEG_PROCESSES: "1" },
  };
  // 45 s: long enough for a poll to catch each stage, short enough that a run through
  // the mastering chain (analysis, master render, per-rendition calibration) fits the deadlines.
  [stack] = await Promise.all([startLocalStack(options), generateSpeech(wav, { seconds: 45, gainDb: -14 })]);
  podcast = await createPodcast(stack, { title: "Recovery Radio" });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (audioDir) await rm(audioDir, { recursive: true, force: true });
});

const s3 = () => localS3(stack);

async function record(episodeId: string): Promise<Episode | undefined> {
  const bytes = await getObject(s3(), keys.episode(episodeId));
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as Episode) : undefined;
}

async function waitForRecord(episodeId: string, done: (e: Episode) => boolean, what: string, timeoutMs = 60_000): Promise<Episode> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await record(episodeId);
    if (e && done(e)) return e;
    if (Date.now() > deadline) throw new Error(`episode ${episodeId} never ${what}: ${JSON.stringify(e)}\n${stack.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const upload = (title: string) => uploadFile(stack.edgeUrl, podcast.uploadToken, wav, { title, filename: "interview.wav" }, 4 * 1024 * 1024);

const jobFolders = async () => (await readdir(path.join(options.dataDir, "processor-work")).catch(() => [] as string[])).sort();

async function feedItems(): Promise<string[]> {
  const xml = await (await fetch(`${stack.edgeUrl}/feeds/${podcast.podcastId}.xml`)).text();
  return (parseFeed(xml)?.items ?? []).map((i) => i.guid ?? "");
}

/** Published once: its one entry in the feed's source, its one item in the feed. */
async function expectPublishedOnce(episodeId: string): Promise<Episode> {
  const { episode } = await waitForOutcome(stack.edgeUrl, podcast.uploadToken, episodeId, 180_000, () => stack.logs());
  expect(episode.state, stack.logs()).toBe("published");
  expect((await listKeys(s3(), keys.publishedPrefix(podcast.podcastId))).filter((k) => k.includes(episodeId))).toHaveLength(1);
  expect((await feedItems()).filter((guid) => guid.includes(episodeId))).toHaveLength(1);
  return episode;
}

describe("nothing stranded", () => {
  it("a restart of the whole stack with one job queued and one in transcode: both publish, once each", async () => {
    const inTranscode = await upload("In transcode when the stack died");
    // Normalize (the mastering chain) runs first and is slow on a loaded machine: wait as the stage cases do.
    await waitForRecord(inTranscode.episodeId, (e) => e.state === "processing" && e.stage === "transcode", "reached transcode", 150_000);
    // The processor dies mid-transcode (kill -9: no drain, its job folder left behind)...
    await stack.killProcessor();
    expect((await jobFolders()).length).toBe(1);
    // ...and a second upload completes while it is down: its hand-off fails, the queue holds it for a retry.
    const queued = await upload("Queued when the stack died");
    await waitForRecord(queued.episodeId, (e) => e.state === "queued" && !!e.lastRetry, "had a failed hand-off");

    // Everything stops; the local queue (in memory) and its retry are lost with it.
    await stack.stop();
    stack = await startLocalStack(options);

    // Start-up removed the dead run's folder before taking work.
    expect(await jobFolders()).toEqual([]);
    const [a, b] = await Promise.all([expectPublishedOnce(inTranscode.episodeId), expectPublishedOnce(queued.episodeId)]);
    // The killed run counts: one meaning of attempts, runs started.
    expect(a.attempts).toBe(2);
    expect(b.attempts).toBe(1);
    expect(await jobFolders()).toEqual([]);
  }, 400_000);

  // Two stages, not all six: each case costs a processor restart and a run on this shared machine.
  for (const stage of ["validate", "distribute"] as StageName[]) {
    it(`kill -9 of the processor in ${stage}: published once, one feed entry, no job folder left`, async () => {
      const { episodeId } = await upload(`Killed in ${stage}`);
      await waitForRecord(episodeId, (e) => e.state === "processing" && e.stage === stage, `reached ${stage}`, 150_000);
      await stack.killProcessor();
      await stack.startProcessor();
      expect(await jobFolders()).toEqual([]);
      const episode = await expectPublishedOnce(episodeId);
      expect(episode.attempts).toBe(2);
      expect(await jobFolders()).toEqual([]);
    }, 300_000);
  }
});
