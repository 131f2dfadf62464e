// Every episode reaches an end by itself, whatever is lost: the processor is
// killed (kill -9) with a run at the end of each of the six stages, and the
// whole local stack (wrangler dev + the Node processor, real ffmpeg,
// tus-js-client) is restarted under a queued job and a run in transcode; the
// sweep (the Worker's scheduled handler, driven through /__scheduled as the
// Cron Trigger drives it in production) brings each to published, once.
// Deadlines are shortened for the test (SWEEP_QUEUED_SECONDS,
// JOB_LEASE_SECONDS); nothing is mocked. Spans: the OTLP both services export.
//
// Where the kill lands. With seconds of audio, validate, metadata and waveform
// last a few hundred milliseconds: a test that watches the record and kills
// when it names the stage would mostly kill in the next stage, or need a long
// file to make every stage slow (the old version: 45 s of speech, minutes).
// So the run is stopped there on purpose by a test-only hold
// (PROCESSOR_TEST_HOLD_DIR, processor/stage-hold.ts; refused with
// NODE_ENV=production): a run waits just before it records leaving the armed
// stage, so the kill comes after the stage's work, while the record still
// names it, with every earlier file in the job folder and the lease being
// renewed. For distribute that is the worst moment: public files, feed entry
// and feed written, the record not yet "published". The hold wraps the object
// store; the runner and the stages run unchanged. What this does not show is
// a kill halfway through a stage: that leaves partial files in the job folder
// (removed at start-up like the rest) or, in distribute, some of the public
// files the hold's case has all of (each written whole, under fixed keys).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseFeed } from "podcast-partytime";
import { freePort, startLocalStack, type LocalStack, type StackOptions } from "../../local/stack.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver.ts";
import { generateSpeech } from "../../local/sample-audio.ts";
import { keys } from "../../shared/storage-keys.ts";
import type { Episode } from "../../shared/episode.ts";
import { ATTR, SPANS, STAGES, type StageName } from "../../shared/telemetry.ts";
import { createPodcast, type CreatedPodcast } from "../support/stack.ts";
import { uploadFile, waitForOutcome } from "../support/episode-flow.ts";
import { getObject, listKeys, localS3 } from "../support/s3.ts";

let dataDir: string;
let holdDir: string;
let wav: string;
let stack: LocalStack;
let receiver: OtlpReceiver;
let podcast: CreatedPodcast;
let options: StackOptions;

const SCHEDULE_MS = 1_000;
/**
 * A killed run's lease expires this long after its last renewal (production: 60 s). Not less: renewals
 * go through wrangler dev's S3 endpoint, and with six runs on a loaded machine a 10 s lease lapsed
 * under a live run, so the sweep re-sent it mid-stage.
 */
const LEASE_SECONDS = 30;
/** Not less: a queue delivery to a busy processor can take several seconds, and a re-send then is wasted work. */
const QUEUED_SECONDS = 15;
/**
 * The sweep's run deadline (10 min + 0.5 s per audio second), not shortened: a held run keeps a live
 * lease, and a shorter deadline would have the sweep re-send (and mark queued) episodes still held.
 */
const RUN_BASE_SECONDS = 600;
const SPEECH_SECONDS = 3;
/**
 * The documented bound on recovery (README "Nothing stranded"), with the test's settings: re-sent once
 * past the lease or the queued deadline (whichever applies) at the next sweep, then the run's deadline.
 * Slack: the sweep is a request to wrangler dev, slow on a loaded machine.
 */
const RESEND_BOUND_MS = (Math.max(LEASE_SECONDS, QUEUED_SECONDS) + (2 * SCHEDULE_MS) / 1000 + 15) * 1000;
const RECOVERY_BOUND_MS = RESEND_BOUND_MS + (RUN_BASE_SECONDS + 0.5 * SPEECH_SECONDS) * 1000;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "recovery-"));
  holdDir = path.join(dataDir, "holds");
  wav = path.join(dataDir, "interview.wav");
  await mkdir(holdDir);
  receiver = await startOtlpReceiver();
  options = {
    dataDir: path.join(dataDir, "stack"),
    // Fixed across restarts: the Worker's PROCESSOR_URL names the processor's port.
    edgePort: await freePort(),
    processorPort: await freePort(),
    adminToken: `recovery-admin-${Date.now()}`,
    scheduleIntervalMs: SCHEDULE_MS,
    otlpEndpoint: receiver.endpoint,
    edgeVars: { SWEEP_QUEUED_SECONDS: String(QUEUED_SECONDS) },
    processorEnv: { JOB_LEASE_SECONDS: String(LEASE_SECONDS), FFMPEG_PROCESSES: "1", PROCESSOR_TEST_HOLD_DIR: holdDir },
  };
  // Seconds of speech: the holds, not the length, decide where a run is killed.
  [stack] = await Promise.all([startLocalStack(options), generateSpeech(wav, { seconds: SPEECH_SECONDS, gainDb: -14 })]);
  podcast = await createPodcast(stack, { title: "Recovery Radio" });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const s3 = () => localS3(stack);

async function record(episodeId: string): Promise<Episode | undefined> {
  const bytes = await getObject(s3(), keys.episode(episodeId));
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as Episode) : undefined;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${stack.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads the speech; with `holdAt`, the hold is armed before its last byte (so before its job exists). */
const upload = (title: string, holdAt?: StageName) =>
  uploadFile(stack.edgeUrl, podcast.uploadToken, wav, { title, filename: "interview.wav" }, 4 * 1024 * 1024, (id) => {
    if (holdAt) writeFileSync(path.join(holdDir, id), holdAt);
  });

/** Resolves once the run is held at the end of `stage`, and checks the record still names that stage. */
async function heldAt(episodeId: string, stage: StageName): Promise<void> {
  const held = path.join(holdDir, `${episodeId}.held`);
  // Generous: six runs share two cores with the rest of the suite.
  await waitFor(
    `episode ${episodeId} held at the end of ${stage}`,
    async () => ((await readFile(held, "utf8").catch(() => "")) === stage ? true : undefined),
    300_000,
  );
  expect(await record(episodeId)).toMatchObject({ state: "processing", stage, attempts: 1 });
}

/** Disarms every hold, so the runs after the restart go through. */
async function disarmHolds(): Promise<void> {
  for (const f of await readdir(holdDir)) await rm(path.join(holdDir, f));
}

const jobFolders = async () => (await readdir(path.join(options.dataDir, "processor-work")).catch(() => [] as string[])).sort();

/** Published once: one entry in the feed's source, one item in the feed with a unique guid, its enclosure served in full. */
async function expectPublishedOnce(episodeId: string, timeoutMs = RECOVERY_BOUND_MS): Promise<Episode> {
  const { episode } = await waitForOutcome(stack.edgeUrl, podcast.uploadToken, episodeId, timeoutMs, () => stack.logs());
  expect(episode.state, stack.logs()).toBe("published");
  expect((await listKeys(s3(), keys.publishedPrefix(podcast.podcastId))).filter((k) => k.includes(episodeId))).toHaveLength(1);
  // Six runs wrote the feed at once: the one that returned last must not have left out another's item.
  const xml = await (await fetch(`${stack.edgeUrl}/feeds/${podcast.podcastId}.xml`)).text();
  const items = parseFeed(xml)?.items ?? [];
  const guids = items.map((i) => i.guid);
  expect(new Set(guids).size).toBe(guids.length);
  const mine = items.filter((i) => i.guid?.includes(episodeId));
  expect(mine).toHaveLength(1);
  const enclosure = await fetch(mine[0]!.enclosure.url);
  expect(enclosure.status).toBe(200);
  expect((await enclosure.arrayBuffer()).byteLength).toBe(mine[0]!.enclosure.length);
  // The killed run never ended its span; the run that published did, once.
  const runs = await receiver.waitFor(() => {
    const found = receiver.spans().filter((s) => s.name === SPANS.pipeline && s.attributes[ATTR.episodeId] === episodeId);
    return found.length ? found : undefined;
  }, 30_000);
  expect(runs).toHaveLength(1);
  expect(runs[0]!.status.code).not.toBe(2);
  expect(runs[0]!.attributes[ATTR.outcome]).toBe("published");
  return episode;
}

describe("nothing stranded", () => {
  it("kill -9 of the processor at the end of each stage: each publishes once, one feed entry, no job folder left", async () => {
    // Six runs at once, one held at the end of each stage, then one kill for all of them.
    const runs = await Promise.all(
      STAGES.map(async (stage) => {
        const { episodeId } = await upload(`Killed in ${stage}`, stage);
        await heldAt(episodeId, stage);
        return { stage, episodeId };
      }),
    );
    const killed = await jobFolders();
    expect(killed).toHaveLength(STAGES.length);
    // distribute's hold comes after the feed was written: the restart must not publish it twice.
    const distributed = runs.find((r) => r.stage === "distribute")!;
    expect((await listKeys(s3(), keys.publishedPrefix(podcast.podcastId))).filter((k) => k.includes(distributed.episodeId))).toHaveLength(
      1,
    );

    await stack.killProcessor();
    await disarmHolds();
    await stack.startProcessor();
    // Start-up removed every dead run's folder before taking work (a re-sent run may have made its own since).
    expect((await jobFolders()).filter((f) => killed.includes(f))).toEqual([]);

    const episodes = await Promise.all(runs.map((r) => expectPublishedOnce(r.episodeId)));
    // The killed run counts: one meaning of attempts, runs started.
    for (const e of episodes) expect(e.attempts, e.title).toBe(2);
    expect(await jobFolders()).toEqual([]);
  }, 900_000);

  it("a restart of the whole stack with one job queued and one in transcode: both publish, once each, within the deadlines", async () => {
    const inTranscode = await upload("In transcode when the stack died", "transcode");
    await heldAt(inTranscode.episodeId, "transcode");
    // The processor dies in transcode (kill -9: no drain, its job folder left behind)...
    await stack.killProcessor();
    await disarmHolds();
    const killed = await jobFolders();
    expect(killed).toHaveLength(1);
    // ...and a second upload completes while it is down: its hand-off fails, the queue holds it for a retry.
    const queued = await upload("Queued when the stack died");
    await waitFor("a failed hand-off", async () => ((await record(queued.episodeId))?.lastRetry ? true : undefined));
    expect(await record(queued.episodeId)).toMatchObject({ state: "queued", attempts: 0 });

    // Everything stops; the local queue (in memory) and its retry are lost with it.
    await stack.stop();
    const restarted = Date.now();
    stack = await startLocalStack(options);

    // Start-up removed the dead run's folder before taking work (a re-sent run may have made its own since).
    expect((await jobFolders()).filter((f) => killed.includes(f))).toEqual([]);
    // Nothing but the sweep sends them again: each within its deadline (the lease's expiry for the run,
    // the queued deadline for the lost job), then each publishes within the run's deadline.
    const back = Date.now();
    const resent = (id: string) =>
      waitFor(`episode ${id} re-sent by the sweep`, async () => ((await record(id))?.resent ? true : undefined), RESEND_BOUND_MS);
    await Promise.all([resent(inTranscode.episodeId), resent(queued.episodeId)]);
    const [a, b] = await Promise.all([expectPublishedOnce(inTranscode.episodeId), expectPublishedOnce(queued.episodeId)]);
    console.log(
      `recovery: stack restarted in ${Math.round((back - restarted) / 1000)} s; both published ${Math.round((Date.now() - back) / 1000)} s later`,
    );
    expect(a.attempts).toBe(2);
    expect(b.attempts).toBe(1);
    expect(await jobFolders()).toEqual([]);
  }, 400_000);
});
