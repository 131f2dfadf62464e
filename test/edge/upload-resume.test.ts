// Resumable uploads the way creators' apps make them: the real tus-js-client
// (Node) against workerd (wrangler dev) with Durable Objects and local R2.
// Uploads break mid-chunk, resume from new clients that only know the upload
// URL, survive a restart of the whole local stack, race each other, and are
// terminated. Every stored object is read back through the S3 endpoint and
// compared with the file by sha256.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../local/stack.ts";
import { keys } from "../../shared/storage-keys.ts";
import { AudioDir, wavSecondsFor, type AudioFile } from "../support/audio.ts";
import { getObject, listKeys, localS3, sha256 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { startFlakyNetwork } from "../support/flaky-network.ts";
import { headUpload, patchUpload, runTusClient } from "../support/tus.ts";

const MiB = 1024 * 1024;
const PART = 5 * MiB;

let dataDir: string;
let edgePort: number;
let stack: Awaited<ReturnType<typeof startTestStack>>;
const edgeLog: string[] = [];
let audio: AudioDir;
let show: CreatedPodcast;
let small: AudioFile; // ~12 MiB
let large: AudioFile; // ~24 MiB
let smallBytes: Buffer;
let largeBytes: Buffer;

const start = () =>
  startTestStack({
    dataDir,
    edgePort,
    edgeVars: { UPLOAD_PART_BYTES: String(PART) },
    log: (service, line) => {
      if (service === "edge") edgeLog.push(line);
    },
  });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "podcast-resume-"));
  edgePort = await freePort();
  audio = await AudioDir.create();
  [stack, small, large] = await Promise.all([
    start(),
    audio.generate("wav", wavSecondsFor(12 * MiB)),
    audio.generate("wav", wavSecondsFor(24 * MiB)),
  ]);
  [smallBytes, largeBytes] = await Promise.all([readFile(small.path), readFile(large.path)]);
  show = await createPodcast(stack);
});
afterAll(async () => {
  await stack?.stop();
  await audio?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const episodeOf = (url: string) => url.split("/").pop()!;

async function storedSha(url: string): Promise<string | undefined> {
  const bytes = await getObject(localS3(stack), keys.source(show.podcastId, episodeOf(url)));
  return bytes && sha256(bytes);
}

async function offsetOf(url: string): Promise<number> {
  const res = await headUpload(url, show.uploadToken);
  expect(res.status).toBe(200);
  return Number(res.headers.get("Upload-Offset"));
}

/** How many times the Durable Object reported this upload complete (it logs once, after uploadCompleted succeeded). */
const completions = (url: string) => edgeLog.filter((l) => l.includes(`upload complete: episode ${episodeOf(url)}`)).length;

describe("chunk sizes", () => {
  it.each([
    ["1 MiB", MiB],
    ["5 MiB (one part)", PART],
    ["7 MiB + 3 bytes", 7 * MiB + 3],
    ["whole file (tus-js-client's default)", undefined],
  ])("%s chunks store the file byte for byte", async (_name, chunkSize) => {
    const run = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: smallBytes,
      ...(chunkSize ? { chunkSize } : {}),
    });
    expect(run.result).toBe("done");
    expect(await storedSha(run.url)).toBe(small.sha256);
    expect(completions(run.url)).toBe(1);
    // Nothing staged is left behind.
    expect(await listKeys(localS3(stack), keys.uploadPrefix(show.podcastId, episodeOf(run.url)))).toEqual([
      keys.source(show.podcastId, episodeOf(run.url)),
    ]);
  });

  it("creation-with-upload (first chunk in the POST)", async () => {
    const run = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: smallBytes,
      chunkSize: 3 * MiB,
      uploadDataDuringCreation: true,
    });
    expect(await storedSha(run.url)).toBe(small.sha256);
  });

  it("deferred length (the size is sent with the last chunk)", async () => {
    // A Buffer source: tus-js-client 4.3's Node stream source stalls at the end of a file
    // whose size is not a multiple of chunkSize (seen against a plain Node server too).
    const run = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: smallBytes,
      uploadLengthDeferred: true,
      chunkSize: 4 * MiB,
    });
    expect(await storedSha(run.url)).toBe(small.sha256);
  });
});

describe("interruption and resume", () => {
  it("the network drops mid-chunk at random points; tus-js-client resumes where it stopped, the file arrives intact", async () => {
    const network = await startFlakyNetwork(stack.edgeUrl);
    try {
      // Request bytes between drops: random, 2-7 MiB, so drops land inside parts and inside chunks.
      const gaps = [0, 1, 2].map(() => Math.floor((2 + 5 * Math.random()) * MiB));
      for (const gap of gaps) network.dropAfter(gap);
      const resumedAt: number[] = [];
      const run = await runTusClient({
        edgeUrl: network.url,
        token: show.uploadToken,
        source: largeBytes,
        retryDelays: [0, 200, 500, 1000],
        onResume: (offset) => resumedAt.push(offset),
      });
      expect(run.result).toBe("done");
      expect(network.drops).toBe(3);
      // A resume the edge answered with an error (a 423 while the dropped PATCH was still being
      // wound up, on a busy machine) is retried from the same offset: count where it resumed.
      const resumes = resumedAt.filter((offset, i) => i === 0 || offset !== resumedAt[i - 1]);
      expect(resumes, `gaps ${gaps}, resumed at ${resumedAt}`).toHaveLength(3);
      // What reached the edge before a drop was kept, not only whole parts (5 MiB): a resume
      // starts close to where the bytes stopped (less request headers and what was still in
      // flight between wrangler's dev proxy and workerd, which grows with machine load: up to
      // ~270 KiB seen on 2 busy cores). Each window starts where the previous resume did.
      let from = 0;
      for (const [i, offset] of resumes.entries()) {
        const reached = from + gaps[i]!;
        expect(offset, `gaps ${gaps}, resumed at ${resumedAt}`).toBeLessThanOrEqual(reached);
        expect(offset, `gaps ${gaps}, resumed at ${resumedAt}`).toBeGreaterThan(reached - MiB);
        from = offset;
      }
      expect(await storedSha(run.url)).toBe(large.sha256);
      expect(completions(run.url)).toBe(1);
    } finally {
      await network.close();
    }
  });

  it("a NEW client resumes from the upload URL alone", async () => {
    const first = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: largeBytes,
      chunkSize: 2 * MiB,
      stopAfterBytes: 7 * MiB,
    });
    expect(first.result).toBe("stopped");
    const offset = await offsetOf(first.url);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(largeBytes.length);
    // No endpoint, no metadata, another chunk size: only the URL (and the podcast's token).
    const resumedAt: number[] = [];
    const second = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: largeBytes,
      uploadUrl: first.url,
      onResume: (o) => resumedAt.push(o),
    });
    expect(second.result).toBe("done");
    expect(resumedAt).toEqual([offset]);
    expect(await storedSha(first.url)).toBe(large.sha256);
  });

  it("two clients resuming the same upload at once: both finish, bytes intact, completed exactly once", async () => {
    const first = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: largeBytes,
      chunkSize: 2 * MiB,
      stopAfterBytes: 6 * MiB,
    });
    const url = first.url;
    // A third writer holds the upload while the two clients start (its PATCH body arrives slowly until
    // one of them is refused), so they meet it however the machine schedules them: on a loaded
    // machine one client once finished before the other had sent anything.
    const heldAt = await offsetOf(url);
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const holding = patchUpload(
      url,
      show.uploadToken,
      heldAt,
      new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(largeBytes.slice(heldAt, heldAt + 64 * 1024));
          await released;
          c.enqueue(largeBytes.slice(heldAt + 64 * 1024, heldAt + MiB));
          c.close();
        },
      }),
    );
    // Let go after 10 s whatever happened, so a server that never refuses fails below instead of hanging.
    const timer = setTimeout(release, 10_000);
    const statuses: number[] = [];
    const racers = await Promise.all(
      [undefined, 3 * MiB].map((chunkSize) =>
        runTusClient({
          edgeUrl: stack.edgeUrl,
          token: show.uploadToken,
          source: largeBytes,
          uploadUrl: url,
          ...(chunkSize ? { chunkSize } : {}),
          retryDelays: [0, 200, 500, 1000, 1000, 2000, 2000, 3000],
          onResponse: (method, status) => {
            if (method !== "PATCH") return;
            statuses.push(status);
            if (status === 423 || status === 409) release();
          },
        }),
      ),
    );
    clearTimeout(timer);
    expect((await holding).status).toBe(204);
    expect(racers.map((r) => r.result)).toEqual(["done", "done"]);
    // They did collide: one was told the upload was busy (423) or had moved on (409), and retried.
    expect(statuses.filter((s) => s === 423 || s === 409).length, `PATCH statuses ${statuses}`).toBeGreaterThan(0);
    expect(await storedSha(url)).toBe(large.sha256);

    // A retried final PATCH (the reply was lost) is answered, and does not complete the upload again.
    const retried = await Promise.all([1, 2].map(() => patchUpload(url, show.uploadToken, largeBytes.length, null)));
    expect(retried.map((r) => r.status)).toEqual([204, 204]);
    expect(retried[0]!.headers.get("Upload-Offset")).toBe(String(largeBytes.length));
    await new Promise((r) => setTimeout(r, 300)); // let the last log lines arrive
    expect(completions(url)).toBe(1);
  });

  it("terminated by the client (abort with terminate): the upload and its data are gone", async () => {
    const run = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: largeBytes,
      chunkSize: 4 * MiB,
      stopAfterBytes: 9 * MiB,
      terminate: true,
    });
    expect(run.result).toBe("stopped");
    expect([404, 410]).toContain((await headUpload(run.url, show.uploadToken)).status);
    expect(await listKeys(localS3(stack), keys.uploadPrefix(show.podcastId, episodeOf(run.url)))).toEqual([]);
  });

  it("survives a restart of the whole local stack (same data folder): state and staged bytes persist", async () => {
    const before = await runTusClient({
      edgeUrl: stack.edgeUrl,
      token: show.uploadToken,
      source: largeBytes,
      chunkSize: 3 * MiB,
      stopAfterBytes: 13 * MiB,
    });
    const url = before.url;
    const offset = await offsetOf(url);
    expect(offset).toBeGreaterThan(PART);

    await stack.stop();
    stack = await start();
    expect(stack.edgeUrl).toBe(new URL(url).origin);

    expect(await offsetOf(url)).toBe(offset);
    const after = await runTusClient({ edgeUrl: stack.edgeUrl, token: show.uploadToken, source: largeBytes, uploadUrl: url });
    expect(after.result).toBe("done");
    expect(await storedSha(url)).toBe(large.sha256);
  });
});
