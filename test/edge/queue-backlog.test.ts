// Queue depth as the edge exports it: the Cron Trigger's handler reads the
// backlog of episode-jobs and its dead letter queue from their raw bindings
// and sends OTLP gauges, decoded here from what the edge (workerd under
// wrangler dev, Cron fired through --test-scheduled's /__scheduled, as the
// local stack does every minute) really exported. The backlog is real: the
// processor is stopped (it accepts the connection and answers nothing, as a
// frozen process does) while four uploads complete; once it answers, the
// queue drains. The stand-in processor is a small HTTP server (the real one
// has its own tests); Honeycomb is replaced by the in-test OTLP receiver.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MESSAGING, METRICS, SERVICE_NAMES } from "../../shared/telemetry.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from "../../local/otlp-receiver.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { toneWav, uploadEpisode } from "../support/upload-episode.ts";

const EPISODES = 4;

/** A processor that is "stopped" until start(): requests are held unanswered, then all answered published. */
async function stoppableProcessor() {
  let running = false;
  const held: { res: ServerResponse; episodeId: string }[] = [];
  let deliveries = 0;
  const answer = (res: ServerResponse, episodeId: string) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ outcome: "published", episodeId }));
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      if (req.url === "/healthz") return void res.writeHead(200).end("ok");
      deliveries++;
      const { episodeId } = JSON.parse(raw) as { episodeId: string };
      if (running) answer(res, episodeId);
      else held.push({ res, episodeId });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries: () => deliveries,
    start() {
      running = true;
      for (const h of held.splice(0)) answer(h.res, h.episodeId);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let receiver: OtlpReceiver;
let processor: Awaited<ReturnType<typeof stoppableProcessor>>;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let podcast: CreatedPodcast;

beforeAll(async () => {
  let wav: Buffer;
  [receiver, processor, wav] = await Promise.all([startOtlpReceiver(), stoppableProcessor(), toneWav(1)]);
  // The test fires the Cron Trigger itself, at the moments it wants a reading.
  stack = await startTestStack({ otlpEndpoint: receiver.endpoint, scheduleIntervalMs: 0, edgeVars: { PROCESSOR_URL: processor.url } });
  podcast = await createPodcast(stack);
  for (let i = 0; i < EPISODES; i++) {
    await uploadEpisode({ edgeUrl: stack.edgeUrl, uploadToken: podcast.uploadToken, bytes: wav, title: `Backlog ${i}` });
  }
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
  await processor?.stop();
  await receiver?.stop();
});

/** Fires the Cron Trigger and waits for the gauges that run exported (one reading per queue and metric). */
async function reading(): Promise<Map<string, Map<string, number>>> {
  const before = receiver.metrics().length;
  const res = await fetch(`${stack.edgeUrl}/__scheduled?cron=*+*+*+*+*`);
  expect(res.status, await res.text()).toBe(200);
  const fresh = await receiver.waitFor(() => {
    const got = receiver
      .metrics()
      .slice(before)
      .filter((m) => m.name.startsWith("audio.queue.backlog."));
    return got.length >= 3 ? got : undefined;
  });
  const byMetric = new Map<string, Map<string, number>>();
  for (const m of fresh) {
    expect(m).toMatchObject({ type: "gauge", serviceName: SERVICE_NAMES.edge } satisfies Partial<ReceivedMetric>);
    for (const p of m.points) {
      const queues = byMetric.get(m.name) ?? new Map<string, number>();
      queues.set(String(p.attributes[MESSAGING.destination]), p.value!);
      byMetric.set(m.name, queues);
    }
  }
  return byMetric;
}

describe("queue backlog gauges", () => {
  it("rise while the processor is stopped: every job but the one in hand waits, and the oldest grows older", async () => {
    // One delivery is in the consumer's hands (held by the stopped processor); the rest wait on the queue.
    await receiver.waitFor(() => processor.deliveries() >= 1 || undefined);
    const first = await reading();
    expect(first.get(METRICS.queueBacklogMessages)?.get("episode-jobs")).toBe(EPISODES - 1);
    expect(first.get(METRICS.queueBacklogBytes)?.get("episode-jobs")).toBeGreaterThan(200 * (EPISODES - 1));
    // The dead letter queue is read too, and is empty.
    expect(first.get(METRICS.queueBacklogMessages)?.get("episode-jobs-dlq")).toBe(0);
    expect(first.get(METRICS.queueOldestMessageAge)?.get("episode-jobs-dlq")).toBe(0);

    await new Promise((r) => setTimeout(r, 2_000));
    const second = await reading();
    expect(second.get(METRICS.queueBacklogMessages)?.get("episode-jobs")).toBe(EPISODES - 1);
    const age1 = first.get(METRICS.queueOldestMessageAge)!.get("episode-jobs")!;
    const age2 = second.get(METRICS.queueOldestMessageAge)!.get("episode-jobs")!;
    expect(age1).toBeGreaterThan(0);
    expect(age2 - age1).toBeGreaterThanOrEqual(1.5);
    expect(processor.deliveries()).toBe(1);
  });

  it("fall to zero once the processor answers and the queue drains", async () => {
    processor.start();
    const deadline = Date.now() + 30_000;
    let last: Map<string, Map<string, number>> | undefined;
    while (Date.now() < deadline) {
      last = await reading();
      if (last.get(METRICS.queueBacklogMessages)?.get("episode-jobs") === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(last?.get(METRICS.queueBacklogMessages)?.get("episode-jobs")).toBe(0);
    expect(last?.get(METRICS.queueBacklogBytes)?.get("episode-jobs")).toBe(0);
    expect(last?.get(METRICS.queueOldestMessageAge)?.get("episode-jobs")).toBe(0);
    expect(processor.deliveries()).toBe(EPISODES);
  });

  it("exports them as gauges with units, one point per queue per reading", () => {
    const units = new Map(
      receiver
        .metrics()
        .filter((m) => m.name.startsWith("audio.queue.backlog."))
        .map((m) => [m.name, m.unit]),
    );
    expect(Object.fromEntries(units)).toEqual({
      [METRICS.queueBacklogMessages]: "{message}",
      [METRICS.queueBacklogBytes]: "By",
      [METRICS.queueOldestMessageAge]: "s",
    });
  });
});
