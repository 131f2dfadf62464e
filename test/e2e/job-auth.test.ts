// Only the edge starts jobs, one run per episode, and no secret leaves: the
// whole local stack (wrangler dev + the Node processor with real ffmpeg), with
// the OTLP both services export received and decoded here (Honeycomb is the
// only thing replaced). Forged jobs are sent straight to the processor, as an
// attacker on the machine would; the bucket is listed (keys and ETags) before
// and after to prove nothing was written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { LOCAL_S3 } from "../../local/stack.ts";
import { generateSpeech } from "../../local/sample-audio.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver.ts";
import type { Episode } from "../../shared/episode.ts";
import type { EpisodeJob } from "../../shared/job.ts";
import { SIGNATURE_HEADER, signJob } from "../../shared/job-signature.ts";
import { keys } from "../../shared/storage-keys.ts";
import { SPANS } from "../../shared/telemetry.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { getEpisode, uploadFile, waitForOutcome } from "../support/episode-flow.ts";
import { getObject, localS3, putObject } from "../support/s3.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let receiver: OtlpReceiver;
let dir: string;
let wav: string;
let showA: CreatedPodcast;
let showB: CreatedPodcast;
let published: Episode;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "job-auth-"));
  wav = path.join(dir, "episode.wav");
  receiver = await startOtlpReceiver();
  [stack] = await Promise.all([
    startTestStack({
      processor: true,
      otlpEndpoint: receiver.endpoint,
      // The hand-off bound, shortened far below one episode's processing time.
      edgeVars: { DISPATCH_TIMEOUT_SECONDS: "2" },
      // The sweep is not part of these cases: nothing else may write while the bucket is compared.
      scheduleIntervalMs: 0,
    }),
    // 10 s: every run takes several times the 2 s hand-off bound (asserted below), and three runs stay cheap.
    generateSpeech(wav, { seconds: 10, gainDb: -14 }),
  ]);
  [showA, showB] = await Promise.all([createPodcast(stack, { title: "Show A" }), createPodcast(stack, { title: "Show B" })]);
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await receiver?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const s3 = () => localS3(stack);

async function record(episodeId: string): Promise<Episode> {
  return JSON.parse(new TextDecoder().decode(await getObject(s3(), keys.episode(episodeId)))) as Episode;
}

/** Every key with its ETag: what "nothing written" is checked against. */
async function bucketListing(): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3().send(new ListObjectsV2Command({ Bucket: LOCAL_S3.bucket, ContinuationToken: token }));
    for (const o of res.Contents ?? []) out.push(`${o.Key} ${o.ETag}`);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

function jobOf(e: Episode, overrides: Partial<EpisodeJob> = {}): EpisodeJob {
  return {
    version: 1,
    episodeId: e.episodeId,
    podcastId: e.podcastId,
    sourceKey: e.sourceKey,
    filename: e.filename,
    size: e.size ?? 0,
    title: e.title,
    uploadedAt: e.uploadedAt ?? e.createdAt,
    trace: { traceparent: `00-${e.traceId}-${"1".repeat(16)}-01` },
    ...overrides,
  };
}

async function post(body: string, signature?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.processorUrl}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(signature ? { [SIGNATURE_HEADER]: signature } : {}) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const signed = async (job: unknown, secret = stack.signingSecret) => {
  const body = JSON.stringify(job);
  return post(body, await signJob(secret, body));
};

const pipelineSpans = (traceId: string) => receiver.spans().filter((s) => s.name === SPANS.pipeline && s.traceId === traceId);

describe("the hand-off is bounded by starting the run, not by its length", () => {
  it("a 2 s dispatch timeout and a longer run: published once, one pipeline run, processing throughout", async () => {
    const { episodeId } = await uploadFile(stack.edgeUrl, showA.uploadToken, wav, {
      title: "Longer than the hand-off",
      filename: "long.wav",
    });
    const { episode, statesSeen } = await waitForOutcome(stack.edgeUrl, showA.uploadToken, episodeId, 180_000, () => stack.logs());
    expect(episode.state).toBe("published");
    // Once processing, never back to queued (the old hand-off timed out and was redelivered).
    const firstProcessing = statesSeen.findIndex((s) => s.startsWith("processing"));
    expect(firstProcessing, statesSeen.join(" > ")).toBeGreaterThanOrEqual(0);
    expect(
      statesSeen.slice(firstProcessing).filter((s) => s === "queued"),
      statesSeen.join(" > "),
    ).toEqual([]);
    expect(episode.attempts).toBe(1);
    await receiver.waitFor(() => pipelineSpans(episode.traceId).length >= 1, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(pipelineSpans(episode.traceId)).toHaveLength(1);
    // The case is only a case if the run outlasted the hand-off's bound.
    const run = pipelineSpans(episode.traceId)[0]!;
    expect(run.endTime - run.startTime).toBeGreaterThan(2_000);
    published = await record(episodeId);
  }, 240_000);
});

describe("only the edge starts jobs", () => {
  it("refuses forged, foreign, incomplete and malformed jobs with a 4xx and writes nothing", async () => {
    // An upload created but not finished: its episode record says uploading.
    const created = await fetch(`${stack.edgeUrl}/uploads`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${showA.uploadToken}`,
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "100000",
        "Upload-Metadata": `title ${btoa("Half uploaded")},filename ${btoa("half.wav")}`,
      },
    });
    expect(created.status).toBe(201);
    const incompleteId = created.headers.get("Episode-Id")!;
    const incomplete = await record(incompleteId);
    expect(incomplete.state).toBe("uploading");

    const before = await bucketListing();
    const publishedBefore = await record(published.episodeId);
    const valid = JSON.stringify(jobOf(published));

    const cases: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp][] = [
      ["no signature", () => post(valid), 401, /missing x-job-signature/],
      ["wrong secret", async () => signed(jobOf(published), "not-the-edge-secret-0123456789abcdef"), 403, /does not match/],
      [
        "body changed after signing",
        async () => post(valid.replace("Show", "Shoe").replace(published.title, "Forged"), await signJob(stack.signingSecret, valid)),
        403,
        /does not match/,
      ],
      [
        "stale signature",
        async () => post(valid, await signJob(stack.signingSecret, valid, new Date(Date.now() - 3600_000))),
        403,
        /timestamp/,
      ],
      ["another show's ids", () => signed(jobOf(published, { podcastId: showB.podcastId })), 409, /does not belong to podcast/],
      ["an incomplete upload", () => signed(jobOf(incomplete)), 409, /not complete/],
      ["an unknown episode", () => signed(jobOf(published, { episodeId: "no-such-episode" })), 404, /no episode/],
      ["an invalid episode id", () => signed(jobOf(published, { episodeId: "../state/podcasts/x" })), 400, /episodeId/],
    ];
    for (const [what, send, status, message] of cases) {
      const answer = await send();
      expect({ what, status: answer.status }).toEqual({ what, status });
      expect(String(answer.body.error ?? answer.body.reason), what).toMatch(message);
    }
    expect(await bucketListing()).toEqual(before);
    expect(await record(published.episodeId)).toEqual(publishedBefore);
    expect(await record(incompleteId)).toEqual(incomplete);
    await fetch(`${stack.edgeUrl}/uploads/${incompleteId}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${showA.uploadToken}`, "Tus-Resumable": "1.0.0" },
    });
  });

  it("three concurrent deliveries of one job: one run (one audio.pipeline.process span), attempts 1", async () => {
    // A completed episode whose job the edge has not sent: seeded as the edge leaves it on completion.
    const episodeId = `concurrent-${Date.now()}`;
    const sourceKey = keys.source(showA.podcastId, episodeId);
    const bytes = readFileSync(wav);
    await putObject(s3(), sourceKey, bytes, "audio/wav");
    const now = new Date().toISOString();
    const traceId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const seeded: Episode = {
      episodeId,
      podcastId: showA.podcastId,
      title: "Delivered three times",
      filename: "three.wav",
      size: bytes.length,
      sourceKey,
      state: "queued",
      traceId,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      uploadedAt: now,
    };
    await putObject(s3(), keys.episode(episodeId), JSON.stringify(seeded), "application/json");

    const answers = await Promise.all([1, 2, 3].map(() => signed(jobOf(seeded))));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.map((a) => a.body.outcome).sort()).toEqual(["accepted", "running", "running"]);

    const { episode } = await waitForOutcome(stack.edgeUrl, stack.adminToken, episodeId, 180_000, () => stack.logs());
    expect(episode.state).toBe("published");
    expect(episode.attempts).toBe(1);
    await receiver.waitFor(() => pipelineSpans(traceId).length >= 1, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(pipelineSpans(traceId)).toHaveLength(1);
    // A fourth, after the run: answered published, no work.
    expect((await signed(jobOf(seeded))).body.outcome).toBe("published");
    expect((await getEpisode(stack.edgeUrl, stack.adminToken, episodeId)).attempts).toBe(1);
  }, 240_000);
});

describe("secrets never leave", () => {
  it("a token in a file name, a query parameter (plain and URL-encoded) and a header: in no exported span or log line of either service", async () => {
    const token = showB.uploadToken;
    // The secret is everything after "pp_<podcastId>_": it is base64url, so it may hold "_" itself.
    const secretPart = token.slice(`pp_${showB.podcastId}_`.length);
    const { episodeId } = await uploadFile(stack.edgeUrl, token, wav, { title: "Careless naming", filename: `${token}.wav` });
    await fetch(`${stack.edgeUrl}/episodes/${episodeId}?token=${token}`, { headers: { Authorization: `Bearer ${token}` } });
    await fetch(`${stack.edgeUrl}/episodes/${episodeId}?next=${encodeURIComponent(token)}`, { headers: { "X-Upload-Token": token } });
    await fetch(`${stack.edgeUrl}/feeds/${showB.podcastId}.xml?t=${token.replaceAll("_", "%5F")}`);
    const { episode } = await waitForOutcome(stack.edgeUrl, token, episodeId, 180_000, () => stack.logs());
    expect(episode.state).toBe("published");
    // Both services' spans of this episode arrived (the processor's carry the file name)...
    await receiver.waitFor(() => pipelineSpans(episode.traceId).length >= 1, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    const processorSpans = receiver.spans().filter((s) => s.traceId === episode.traceId && s.serviceName === "podcast-processor");
    expect(processorSpans.length).toBeGreaterThan(5);
    expect(processorSpans.some((s) => String(s.attributes["audio.file.name"] ?? "").startsWith(`pp_${showB.podcastId}_`))).toBe(true);
    // ...and no byte of any export, nor any log line, holds the secret, in any encoding.
    const forms = [secretPart, encodeURIComponent(secretPart), Buffer.from(secretPart).toString("base64")];
    const exported = receiver
      .requests()
      .map((r) => r.body.toString("latin1"))
      .join("\n");
    for (const form of forms) {
      expect(exported.includes(form), `export contains ${form}`).toBe(false);
      expect(stack.logs().includes(form), "a log line contains the token").toBe(false);
    }
  }, 240_000);
});
