// Expiry of abandoned uploads (tus expiration), with the real Durable Object
// alarm in workerd: a short UPLOAD_EXPIRY_SECONDS, and no request touches an
// abandoned upload until its data is checked to be gone, so only the alarm can
// have released it.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { keys } from "../../shared/storage-keys.ts";
import { AudioDir, wavSecondsFor, type AudioFile } from "../support/audio.ts";
import { getObject, listKeys, localS3, sha256 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { createUpload, headUpload, patchUpload } from "../support/tus.ts";

const MiB = 1024 * 1024;
const EXPIRY_SECONDS = 3;

let stack: Awaited<ReturnType<typeof startTestStack>>;
const edgeLog: string[] = [];
let audio: AudioDir;
let show: CreatedPodcast;
let wav: AudioFile;
let bytes: Buffer;

beforeAll(async () => {
  audio = await AudioDir.create();
  [stack, wav] = await Promise.all([
    startTestStack({
      edgeVars: { UPLOAD_PART_BYTES: String(5 * MiB), UPLOAD_EXPIRY_SECONDS: String(EXPIRY_SECONDS) },
      log: (service, line) => service === "edge" && edgeLog.push(line),
    }),
    audio.generate("wav", wavSecondsFor(8 * MiB)),
  ]);
  bytes = await readFile(wav.path);
  show = await createPodcast(stack);
});
afterAll(async () => {
  await stack?.cleanup();
  await audio?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const prefixOf = (episodeId: string) => keys.uploadPrefix(show.podcastId, episodeId);

async function startUpload() {
  const res = await createUpload(stack.edgeUrl, show.uploadToken, { length: bytes.length });
  expect(res.status).toBe(201);
  return { url: res.headers.get("Location")!, episodeId: res.headers.get("Episode-Id")! };
}

it("the alarm aborts an abandoned upload and deletes its staged data after UPLOAD_EXPIRY_SECONDS", async () => {
  const { url, episodeId } = await startUpload();
  // A full part (5 MiB) in the multipart upload and a staged tail.
  const patched = await patchUpload(url, show.uploadToken, 0, bytes.subarray(0, 6 * MiB));
  expect(patched.status).toBe(204);
  const expires = Date.parse(patched.headers.get("Upload-Expires")!);
  expect(expires).toBeGreaterThan(Date.now());
  expect(expires).toBeLessThanOrEqual(Date.now() + EXPIRY_SECONDS * 1000 + 1000);
  expect(await listKeys(localS3(stack), prefixOf(episodeId))).toHaveLength(1);

  // Hands off the upload: wait for the alarm to notice, watching only the bucket and the log.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !edgeLog.some((l) => l.includes(`upload expired: episode ${episodeId}`))) await sleep(250);
  expect(edgeLog.some((l) => l.includes(`upload expired: episode ${episodeId}`))).toBe(true);
  expect(Date.now()).toBeGreaterThanOrEqual(expires);
  while (Date.now() < deadline && (await listKeys(localS3(stack), prefixOf(episodeId))).length > 0) await sleep(250);
  expect(await listKeys(localS3(stack), prefixOf(episodeId))).toEqual([]);

  const head = await headUpload(url, show.uploadToken);
  expect([404, 410]).toContain(head.status);
  const late = await patchUpload(url, show.uploadToken, 6 * MiB, bytes.subarray(6 * MiB));
  expect([404, 410]).toContain(late.status);
});

it("an upload that keeps receiving data does not expire, and a complete one never does", async () => {
  const { url, episodeId } = await startUpload();
  const step = 512 * 1024;
  let offset = 0;
  let lastExpires = 0;
  // Twice the expiry time, a chunk every 500 ms: each PATCH moves Upload-Expires on.
  for (const until = Date.now() + EXPIRY_SECONDS * 2000; Date.now() < until; offset += step) {
    const res = await patchUpload(url, show.uploadToken, offset, bytes.subarray(offset, offset + step));
    expect(res.status).toBe(204);
    const expires = Date.parse(res.headers.get("Upload-Expires")!);
    expect(expires).toBeGreaterThanOrEqual(lastExpires);
    lastExpires = expires;
    await sleep(500);
  }
  const done = await patchUpload(url, show.uploadToken, offset, bytes.subarray(offset));
  expect(done.status).toBe(204);
  expect(done.headers.get("Upload-Expires")).toBeNull();

  await sleep(EXPIRY_SECONDS * 1000 + 1500);
  const head = await headUpload(url, show.uploadToken);
  expect(head.status).toBe(200);
  expect(head.headers.get("Upload-Offset")).toBe(String(bytes.length));
  expect(sha256((await getObject(localS3(stack), keys.source(show.podcastId, episodeId)))!)).toBe(wav.sha256);
  expect(edgeLog.some((l) => l.includes(`upload expired: episode ${episodeId}`))).toBe(false);
});
