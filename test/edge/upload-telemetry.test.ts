// Every tus request an upload's Durable Object handles becomes a span under the upload's audio.upload span,
// so one trace shows the whole upload: creation, each chunk (stored, refused by checksum, sent at a stale
// offset), the HEAD of a resume, the resumed chunks, and a termination. Exported by the edge in workerd
// (wrangler dev) as OTLP protobuf to an in-test receiver standing in for Honeycomb, decoded here; the
// processor is a fake HTTP server (it has its own tests) so the queue hand-off completes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../../local/otlp-receiver.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { startFakeProcessor, type FakeProcessor } from "../support/fake-processor.ts";
import { checksum, createUpload, deleteUpload, patchUpload, runTusClient } from "../support/tus.ts";
import { toneWav } from "../support/upload-episode.ts";

const MiB = 1024 * 1024;
const REQUEST_SPANS: string[] = [SPANS.uploadCreate, SPANS.uploadPatch, SPANS.uploadHead, SPANS.uploadDelete];

let receiver: OtlpReceiver;
let processor: FakeProcessor;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let podcast: CreatedPodcast;
let wav: Buffer;
let episodeId: string;
let terminatedId: string;

const requestSpansOf = (id: string) =>
  receiver.spans().filter((s) => REQUEST_SPANS.includes(s.name) && s.attributes[ATTR.episodeId] === id);
const rootOf = (id: string) => receiver.spans().find((s) => s.name === SPANS.upload && s.attributes[ATTR.episodeId] === id);

beforeAll(async () => {
  [receiver, processor, wav] = await Promise.all([startOtlpReceiver(), startFakeProcessor(), toneWav(20)]);
  stack = await startTestStack({ otlpEndpoint: receiver.endpoint, edgeVars: { PROCESSOR_URL: processor.url } });
  podcast = await createPodcast(stack);

  // Creation, one chunk with a checksum, one whose checksum is wrong, one at a stale offset...
  const created = await createUpload(stack.edgeUrl, podcast.uploadToken, { length: wav.length });
  expect(created.status).toBe(201);
  const url = new URL(created.headers.get("Location")!, stack.edgeUrl).href;
  episodeId = url.split("/").pop()!;
  const first = wav.subarray(0, MiB);
  expect((await patchUpload(url, podcast.uploadToken, 0, first, { "Upload-Checksum": checksum("sha256", first) })).status).toBe(204);
  const second = wav.subarray(MiB, 2 * MiB);
  expect((await patchUpload(url, podcast.uploadToken, MiB, second, { "Upload-Checksum": checksum("sha1", first) })).status).toBe(460);
  expect((await patchUpload(url, podcast.uploadToken, 0, first)).status).toBe(409);
  // ...then a client resumes it: HEAD, and the rest in 1 MiB chunks.
  const resumed = await runTusClient({ edgeUrl: stack.edgeUrl, token: podcast.uploadToken, source: wav, uploadUrl: url, chunkSize: MiB });
  expect(resumed.result).toBe("done");

  // An upload terminated by its client.
  const other = await createUpload(stack.edgeUrl, podcast.uploadToken, { length: wav.length, body: wav.subarray(0, MiB) });
  expect(other.status).toBe(201);
  const otherUrl = new URL(other.headers.get("Location")!, stack.edgeUrl).href;
  terminatedId = otherUrl.split("/").pop()!;
  expect((await deleteUpload(otherUrl, podcast.uploadToken)).status).toBe(204);
});

afterAll(async () => {
  await stack?.cleanup();
  await processor?.stop();
  await receiver?.stop();
});

describe("tus request spans", () => {
  it("puts every request of the upload under audio.upload, in its trace, and every parent in that trace resolves", async () => {
    const root = await receiver.waitFor(() => rootOf(episodeId));
    // Creation, 3 PATCHes by hand, the client's HEAD and the rest of the file in 1 MiB PATCHes.
    const expected = 1 + 3 + 1 + Math.ceil((wav.length - MiB) / MiB);
    const spans = await receiver.waitFor(() => (requestSpansOf(episodeId).length >= expected ? requestSpansOf(episodeId) : undefined));
    expect(spans).toHaveLength(expected);
    for (const s of spans) {
      expect(s.traceId, s.name).toBe(root.traceId);
      expect(s.parentSpanId, s.name).toBe(root.spanId);
      expect(s.attributes[ATTR.podcastId]).toBe(podcast.podcastId);
    }
    // The whole trace, once the hand-off's spans are in too, has no dangling parent.
    await receiver.waitFor(() => {
      const trace = receiver.spans().filter((s) => s.traceId === root.traceId);
      const ids = new Set(trace.map((s) => s.spanId));
      return (
        trace.some((s) => s.name === SPANS.queueProcess("episode-jobs")) && trace.every((s) => !s.parentSpanId || ids.has(s.parentSpanId))
      );
    });
  });

  it("starts audio.upload with the creation request and ends it after the job is on the queue", async () => {
    const root = rootOf(episodeId)!;
    const spans = requestSpansOf(episodeId);
    const create = spans.find((s) => s.name === SPANS.uploadCreate)!;
    // No request of the upload begins before the upload itself does.
    expect(create.startTimeUnixNano).toBe(root.startTimeUnixNano);
    for (const s of spans) expect(s.startTimeUnixNano >= root.startTimeUnixNano, s.name).toBe(true);
    const send = receiver.spans().find((s) => s.traceId === root.traceId && s.name === SPANS.queueSend("episode-jobs"))!;
    expect(send.parentSpanId).toBe(root.spanId);
    expect(send.startTimeUnixNano >= root.startTimeUnixNano && send.endTimeUnixNano <= root.endTimeUnixNano).toBe(true);
  });

  it("describes each request: bytes received, offsets before and after, status, checksum algorithm", async () => {
    const spans = requestSpansOf(episodeId).sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    const [create, stored, mismatch, stale] = spans as [ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan];
    expect(create.name).toBe(SPANS.uploadCreate);
    expect(create.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.response.status_code": 201,
      [ATTR.uploadOffsetAfter]: 0,
      [ATTR.uploadBytesReceived]: 0,
    });
    expect(create.attributes[ATTR.uploadOffsetBefore]).toBeUndefined();

    expect(stored.name).toBe(SPANS.uploadPatch);
    expect(stored.attributes).toMatchObject({
      "http.response.status_code": 204,
      [ATTR.uploadBytesReceived]: MiB,
      "http.request.body.size": MiB,
      [ATTR.uploadOffsetBefore]: 0,
      [ATTR.uploadOffsetAfter]: MiB,
      [ATTR.uploadChecksumAlgorithm]: "sha256",
    });
    // Received in full, then discarded: the offset does not move. A client's mistake, not a server error.
    expect(mismatch.attributes).toMatchObject({
      "http.response.status_code": 460,
      [ATTR.uploadBytesReceived]: MiB,
      [ATTR.uploadOffsetBefore]: MiB,
      [ATTR.uploadOffsetAfter]: MiB,
      [ATTR.uploadChecksumAlgorithm]: "sha1",
    });
    expect(mismatch.status.code).not.toBe(2);
    expect(stale.attributes).toMatchObject({
      "http.response.status_code": 409,
      [ATTR.uploadBytesReceived]: 0,
      [ATTR.uploadOffsetAfter]: MiB,
    });

    const head = spans.find((s) => s.name === SPANS.uploadHead)!;
    expect(head.attributes).toMatchObject({
      "http.response.status_code": 200,
      [ATTR.uploadOffsetBefore]: MiB,
      [ATTR.uploadBytesReceived]: 0,
    });

    // Every byte of the file was stored exactly once, by the PATCHes that answered 204.
    const patches = spans.filter((s) => s.name === SPANS.uploadPatch && s.attributes["http.response.status_code"] === 204);
    const advanced = patches.map((s) => Number(s.attributes[ATTR.uploadOffsetAfter]) - Number(s.attributes[ATTR.uploadOffsetBefore]));
    expect(advanced.reduce((a, b) => a + b, 0)).toBe(wav.length);
    expect(Math.max(...patches.map((s) => Number(s.attributes[ATTR.uploadOffsetAfter])))).toBe(wav.length);
  });

  it("links each request span to the request's own trace, where the Durable Object handled it", async () => {
    const stored = requestSpansOf(episodeId).find((s) => s.attributes[ATTR.uploadChecksumAlgorithm] === "sha256")!;
    expect(stored.links).toHaveLength(1);
    const link = stored.links[0]!;
    expect(link.traceId).not.toBe(stored.traceId);
    const handled = await receiver.waitFor(() => receiver.spans().find((s) => s.spanId === link.spanId && s.traceId === link.traceId));
    expect(handled.name).toMatch(/^Durable Object Fetch/);
  });

  it("records a termination under its upload's audio.upload, which ends in error", async () => {
    const root = await receiver.waitFor(() => rootOf(terminatedId));
    const spans = await receiver.waitFor(() => (requestSpansOf(terminatedId).length >= 2 ? requestSpansOf(terminatedId) : undefined));
    expect(spans.map((s) => s.name).sort()).toEqual([SPANS.uploadCreate, SPANS.uploadDelete].sort());
    for (const s of spans) expect(s.parentSpanId).toBe(root.spanId);
    const del = spans.find((s) => s.name === SPANS.uploadDelete)!;
    expect(del.attributes).toMatchObject({ "http.response.status_code": 204, [ATTR.uploadOffsetBefore]: MiB });
    expect(del.attributes[ATTR.uploadOffsetAfter]).toBeUndefined();
    const create = spans.find((s) => s.name === SPANS.uploadCreate)!;
    // creation-with-upload: the first chunk arrived with the POST.
    expect(create.attributes).toMatchObject({ [ATTR.uploadBytesReceived]: MiB, [ATTR.uploadOffsetAfter]: MiB });
    expect(root.status.code).toBe(2);
  });
});
