// The processor is also runnable on Deno: the same processor/main.ts, run by
// `deno run` (the deno npm package), publishes an episode through the real
// local stack and exports its spans over OTLP like the Node build does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateSpeech } from "../../local/sample-audio.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver.ts";
import { SERVICE_NAMES, SPANS, STAGES } from "../../shared/telemetry.ts";
import { createPodcast, startTestStack } from "../support/stack.ts";
import { uploadFile, waitForOutcome } from "../support/episode-flow.ts";

let receiver: OtlpReceiver;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "deno-e2e-"));
  receiver = await startOtlpReceiver();
  stack = await startTestStack({ processor: true, processorRuntime: "deno", otlpEndpoint: receiver.endpoint });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await receiver?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("processor on Deno", () => {
  it("publishes an uploaded episode and continues its trace", async () => {
    const wav = path.join(workDir, "short.wav");
    await generateSpeech(wav, { seconds: 6, gainDb: -4 });
    const podcast = await createPodcast(stack);
    const { episodeId } = await uploadFile(stack.edgeUrl, podcast.uploadToken, wav, { title: "Deno episode", filename: "short.wav" });
    const { episode } = await waitForOutcome(stack.edgeUrl, podcast.uploadToken, episodeId, 120_000, () => stack.logs());
    expect(episode.failure, JSON.stringify(episode.failure)).toBeUndefined();
    expect(episode.state).toBe("published");
    expect(episode.renditions).toHaveLength(5);

    const mp3 = episode.renditions!.find((r) => r.id === "mp3_128k")!;
    const res = await fetch(mp3.url);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(mp3.bytes);

    await receiver.waitFor(
      () => receiver.spans().some((s) => s.traceId === episode.traceId && s.name === SPANS.stage("distribute")),
      30_000,
    );
    const spans = receiver.spans().filter((s) => s.traceId === episode.traceId);
    const pipeline = spans.find((s) => s.name === SPANS.pipeline)!;
    expect(pipeline.serviceName).toBe(SERVICE_NAMES.processor);
    for (const stage of STAGES) {
      expect(spans.find((s) => s.name === SPANS.stage(stage))?.parentSpanId, stage).toBe(pipeline.spanId);
    }
  });
});
