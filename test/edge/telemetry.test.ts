// What the edge exports over OTLP/HTTP protobuf, received by an in-test OTLP
// receiver standing in for Honeycomb (no collector can run here) and decoded
// with the opentelemetry-proto definitions: the upload's root span with its
// fixed ids, the queue send and process spans in the same trace, the upload
// duration metric, the configured headers - and no secret anywhere in the
// bytes. The edge runs in workerd under wrangler dev; the processor is a fake
// HTTP server (it has its own tests) that records the traceparent it is sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTR, METRICS, SERVICE_NAMES, SPANS } from "../../shared/telemetry.ts";
import { keys } from "../../shared/storage-keys.ts";
import { parseOtlpHeaders } from "../../edge/telemetry/otlp-target.ts";
import { Redactor } from "../../edge/telemetry/redact.ts";
import { ancestry, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../../local/otlp-receiver.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { startFakeProcessor, type FakeProcessor } from "../support/fake-processor.ts";
import { toneWav, uploadEpisode } from "../support/upload-episode.ts";

const HONEYCOMB_KEY = "hcaik_01j9secretteamkey0123456789";

let receiver: OtlpReceiver;
let processor: FakeProcessor;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let podcast: CreatedPodcast;
let wav: Buffer;
let episodeId: string;
let traceId: string;
let uploadStartedAt: number;
let uploadDoneAt: number;
let status: { traceId: string; links?: unknown };

beforeAll(async () => {
  [receiver, processor, wav] = await Promise.all([startOtlpReceiver(), startFakeProcessor(), toneWav(2)]);
  stack = await startTestStack({
    otlpEndpoint: receiver.endpoint,
    edgeVars: {
      PROCESSOR_URL: processor.url,
      DISPATCH_RETRY_BASE_SECONDS: "0",
      // URL-encoded values, as OTEL_EXPORTER_OTLP_HEADERS allows.
      OTEL_EXPORTER_OTLP_HEADERS: `x-honeycomb-team=${HONEYCOMB_KEY},x-honeycomb-dataset=podcast%20edge`,
    },
  });
  podcast = await createPodcast(stack);
  uploadStartedAt = Date.now();
  ({ episodeId } = await uploadEpisode({
    edgeUrl: stack.edgeUrl,
    uploadToken: podcast.uploadToken,
    bytes: wav,
    filename: "telemetry.wav",
    title: "Telemetry",
  }));
  uploadDoneAt = Date.now();
  const res = await fetch(`${stack.edgeUrl}/episodes/${episodeId}`, { headers: { Authorization: `Bearer ${podcast.uploadToken}` } });
  status = (await res.json()) as { traceId: string; links?: unknown };
  traceId = status.traceId;
});

afterAll(async () => {
  await stack?.cleanup();
  await processor?.stop();
  await receiver?.stop();
});

const inTrace = () => receiver.spans().filter((s) => s.traceId === traceId);
const named = (name: string) => (s: ReceivedSpan) => s.name === name;

describe("edge traces", () => {
  it("exports audio.upload with the upload's fixed ids, no parent, its attributes and its whole duration", async () => {
    const upload = await receiver.waitFor(() => inTrace().find(named(SPANS.upload)));
    expect(upload.traceId).toBe(traceId);
    expect(upload.parentSpanId).toBeUndefined();
    expect(upload.kind).toBe("SERVER");
    expect(upload.serviceName).toBe(SERVICE_NAMES.edge);
    expect(upload.attributes).toMatchObject({
      [ATTR.episodeId]: episodeId,
      [ATTR.podcastId]: podcast.podcastId,
      [ATTR.fileName]: "telemetry.wav",
      [ATTR.fileSize]: wav.length,
      [ATTR.storagePath]: keys.source(podcast.podcastId, episodeId),
    });
    // From the upload's creation to its last byte (not just the final request).
    expect(upload.startTime).toBeGreaterThanOrEqual(uploadStartedAt - 2_000);
    expect(upload.endTime).toBeLessThanOrEqual(uploadDoneAt + 1_000);
    expect(upload.endTime).toBeGreaterThanOrEqual(upload.startTime);
    expect(inTrace().filter(named(SPANS.upload))).toHaveLength(1);
  });

  it("sends the job under a PRODUCER span, child of audio.upload, processed under a CONSUMER span, child of the send", async () => {
    const [upload, send, proc] = await receiver.waitFor(() => {
      const spans = inTrace();
      const found = [SPANS.upload, SPANS.queueSend("episode-jobs"), SPANS.queueProcess("episode-jobs")].map((n) => spans.find(named(n)));
      return found.every(Boolean) ? (found as [ReceivedSpan, ReceivedSpan, ReceivedSpan]) : undefined;
    });
    expect(send.kind).toBe("PRODUCER");
    expect(send.parentSpanId).toBe(upload.spanId);
    expect(send.attributes).toMatchObject({
      "messaging.system": "cloudflare_queues",
      "messaging.destination.name": "episode-jobs",
      "messaging.operation.type": "send",
      [ATTR.episodeId]: episodeId,
    });

    expect(proc.kind).toBe("CONSUMER");
    expect(proc.parentSpanId).toBe(send.spanId);
    expect(proc.attributes).toMatchObject({
      "messaging.system": "cloudflare_queues",
      "messaging.destination.name": "episode-jobs",
      "messaging.operation.type": "process",
      [ATTR.episodeId]: episodeId,
      [ATTR.attempt]: 1,
      [ATTR.outcome]: "published",
    });
    expect(typeof proc.attributes["messaging.message.id"]).toBe("string");
  });

  it("gives the processor a traceparent whose parent is an exported span descending from audio.upload", async () => {
    const [delivery] = await processor.waitForJobs(episodeId, 1);
    const [, tid, parentId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$/.exec(String(delivery!.headers.traceparent)) ?? [];
    expect(tid).toBe(traceId);
    const parent = await receiver.waitFor(() => inTrace().find((s) => s.spanId === parentId));
    expect(
      ancestry(receiver.spans(), parent)
        .map((s) => s.name)
        .at(-1),
    ).toBe(SPANS.upload);
    // Every parent id in the upload's trace resolves to an exported span.
    const ids = new Set(inTrace().map((s) => s.spanId));
    for (const s of inTrace()) if (s.parentSpanId) expect(ids.has(s.parentSpanId), `parent of ${s.name}`).toBe(true);
  });

  it("names each tus request's span by its route and tags it with the episode; its trace has no dangling parent", async () => {
    const patch = await receiver.waitFor(() =>
      receiver.spans().find((s) => s.name === "PATCH /uploads/:episodeId" && s.attributes[ATTR.episodeId] === episodeId),
    );
    expect(patch.kind).toBe("SERVER");
    expect(patch.parentSpanId).toBeUndefined();
    const requestTrace = receiver.spans().filter((s) => s.traceId === patch.traceId);
    // The Durable Object that stored the bytes answered within the request's trace.
    expect(requestTrace.some((s) => s.name.startsWith("Durable Object Fetch"))).toBe(true);
    const ids = new Set(requestTrace.map((s) => s.spanId));
    for (const s of requestTrace) if (s.parentSpanId) expect(ids.has(s.parentSpanId), `parent of ${s.name}`).toBe(true);
  });

  it("ends audio.upload in error when an upload is abandoned, so its trace still has a root", async () => {
    const other = await createPodcast(stack);
    const { uploadUrl, episodeId: abandonedId } = await uploadEpisode({
      edgeUrl: stack.edgeUrl,
      uploadToken: other.uploadToken,
      bytes: wav,
      chunkSize: 64 * 1024,
      stopAfterBytes: 64 * 1024,
    });
    const del = await fetch(uploadUrl, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${other.uploadToken}`, "Tus-Resumable": "1.0.0" },
    });
    expect(del.status).toBe(204);
    const span = await receiver.waitFor(() =>
      receiver.spans().find((s) => s.name === SPANS.upload && s.attributes[ATTR.episodeId] === abandonedId),
    );
    expect(span.parentSpanId).toBeUndefined();
    expect(span.status.code).toBe(2);
    expect(span.status.message).toMatch(/terminated/);
  });
});

describe("edge metrics", () => {
  it("records audio.upload.duration (seconds, histogram) and counts the completed upload and the dispatch outcome", async () => {
    await receiver.waitFor(() => receiver.metrics().some((m) => m.name === "audio.dispatch.outcomes"));
    const duration = receiver.metrics().filter((m) => m.name === METRICS.uploadDuration);
    expect(duration).toHaveLength(1);
    expect(duration[0]).toMatchObject({ type: "histogram", unit: "s", serviceName: SERVICE_NAMES.edge, temporality: 1 });
    const point = duration[0]!.points[0]!;
    expect(point.count).toBe(1);
    expect(point.sum).toBeGreaterThanOrEqual(0);
    expect(point.sum).toBeLessThanOrEqual((uploadDoneAt - uploadStartedAt) / 1000 + 2);
    expect(point.bucketCounts!.reduce((a, b) => a + b, 0)).toBe(1);
    expect(point.bucketCounts).toHaveLength(point.explicitBounds!.length + 1);

    const completed = receiver.metrics().filter((m) => m.name === "audio.uploads.completed");
    expect(completed.flatMap((m) => m.points.map((p) => p.value))).toEqual([1]);
    const outcomes = receiver.metrics().filter((m) => m.name === "audio.dispatch.outcomes");
    expect(outcomes.flatMap((m) => m.points.map((p) => p.attributes["audio.dispatch.outcome"]))).toContain("published");
  });

  it("records how long the job waited on the queue (seconds, histogram, by attempt)", async () => {
    const wait = await receiver.waitFor(() => {
      const found = receiver.metrics().filter((m) => m.name === "audio.queue.wait");
      return found.length ? found : undefined;
    });
    expect(wait[0]).toMatchObject({ type: "histogram", unit: "s", serviceName: SERVICE_NAMES.edge });
    const point = wait[0]!.points[0]!;
    expect(point.attributes).toMatchObject({ "messaging.destination.name": "episode-jobs", [ATTR.attempt]: 1 });
    expect(point.count).toBe(1);
    // Sent when the last byte was stored; delivered by the local queue within its batch timeout.
    expect(point.sum).toBeGreaterThanOrEqual(0);
    expect(point.sum).toBeLessThan(30);
  });
});

describe("export", () => {
  it("posts protobuf to /v1/traces and /v1/metrics with the OTEL_EXPORTER_OTLP_HEADERS, URL-decoded", async () => {
    const requests = receiver.requests();
    expect(new Set(requests.map((r) => r.path))).toEqual(new Set(["/v1/traces", "/v1/metrics"]));
    for (const r of requests) {
      expect(r.contentType).toBe("application/x-protobuf");
      expect(r.headers["x-honeycomb-team"]).toBe(HONEYCOMB_KEY);
      expect(r.headers["x-honeycomb-dataset"]).toBe("podcast edge");
    }
  });

  it("never exports a token: not in headers' echo, URLs, queries or errors", async () => {
    // Requests that carry secrets where otel-cf-workers records them (url.full, url.query).
    const leakUrl = `${stack.edgeUrl}/episodes/${episodeId}?access_token=${encodeURIComponent(podcast.uploadToken)}&view=full`;
    expect((await fetch(leakUrl, { headers: { Authorization: `Bearer ${podcast.uploadToken}` } })).status).toBe(200);
    expect(
      (
        await fetch(`${stack.edgeUrl}/podcasts/${podcast.podcastId}?token=${stack.adminToken}`, {
          headers: { Authorization: `Bearer ${stack.adminToken}` },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await fetch(`${stack.edgeUrl}/episodes/${episodeId}?sig=${podcast.uploadToken}`, {
          headers: { Authorization: "Bearer pp_not-a-podcast_AAAAAAAAAAAAAAAAAAAAAAAA" },
        })
      ).status,
    ).toBe(403);

    const withQuery = await receiver.waitFor(() =>
      receiver.spans().find((s) => String(s.attributes["url.query"] ?? "").includes("view=full")),
    );
    // The query parameter is still visible, its value is not.
    expect(withQuery.attributes["url.query"]).toBe("?access_token=[REDACTED]&view=full");
    await receiver.waitFor(() => receiver.spans().some((s) => String(s.attributes["url.query"] ?? "").startsWith("?sig=")));

    // Everything after "pp_<podcastId>_": the secret is base64url, so it may hold "_" itself.
    const secretPart = podcast.uploadToken.slice(`pp_${podcast.podcastId}_`.length);
    const everything = Buffer.concat(receiver.requests().map((r) => r.body)).toString("latin1");
    for (const secret of [podcast.uploadToken, secretPart, encodeURIComponent(podcast.uploadToken), stack.adminToken, HONEYCOMB_KEY]) {
      expect(everything.includes(secret), `exported bytes contain a secret (${secret.slice(0, 6)}...)`).toBe(false);
    }
  });
});

describe("telemetry settings", () => {
  it("gives the status API's trace id alone when no Honeycomb team and environment are configured", () => {
    expect(status.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(status.links).toBeUndefined();
  });

  it("parses OTEL_EXPORTER_OTLP_HEADERS as comma-separated, URL-encoded key=value pairs", () => {
    expect(parseOtlpHeaders("x-honeycomb-team=abc%3D%3D, X-Honeycomb-Dataset = my%20data ,broken,=novalue")).toEqual({
      "x-honeycomb-team": "abc==",
      "x-honeycomb-dataset": "my data",
    });
    expect(parseOtlpHeaders(undefined)).toEqual({});
  });

  it("redacts upload tokens, bearer values, credential query parameters and configured secrets", () => {
    const r = new Redactor(["super-secret-admin-token"]);
    expect(r.text("token pp_1234-abcd_abcdefghijklmnopqrstuvwxyz rest")).toBe("token pp_1234-abcd_[REDACTED] rest");
    expect(r.text("Authorization: Bearer abc.def.ghi")).toBe("Authorization: Bearer [REDACTED]");
    expect(r.text("https://x/y?a=1&X-Amz-Signature=deadbeef&b=2")).toBe("https://x/y?a=1&X-Amz-Signature=[REDACTED]&b=2");
    expect(r.text("failed with super-secret-admin-token inside")).toBe("failed with [REDACTED] inside");
    expect(r.attributes({ "http.request.header.authorization": "anything", [ATTR.fileName]: "show.wav" })).toEqual({
      "http.request.header.authorization": "[REDACTED]",
      [ATTR.fileName]: "show.wav",
    });
  });
});
