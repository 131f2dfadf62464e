/**
 * Stands in for the processor (which has its own tests) in the edge's queue
 * and telemetry tests: an HTTP server on a free port that accepts
 * `POST /jobs` like the real one and answers whatever the test scripts per
 * episode (accepted, published, rejected, 503, or a dropped connection).
 * By default it answers 200 published (the real one's answer to a job
 * already done); 202 answers accepted, as the real one does once a run
 * started (the fake runs nothing: the episode stays queued).
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EpisodeJob } from "../../shared/job.ts";

export type FakeAnswer =
  | { status: 200 | 422 | 503 | number; body?: unknown }
  /** Close the connection without answering: a crashed or unreachable processor. */
  | "drop";

export interface ReceivedJob {
  job: EpisodeJob;
  /** The body exactly as received (what the signature covers). */
  raw: string;
  headers: IncomingHttpHeaders;
  at: number;
}

export interface FakeProcessor {
  url: string;
  /** Answers for the deliveries of an episode (or of every episode of a podcast), in order; the last one repeats. Default: published. */
  script(episodeOrPodcastId: string, answers: FakeAnswer[]): void;
  jobs(episodeId?: string): ReceivedJob[];
  waitForJobs(episodeId: string, count: number, timeoutMs?: number): Promise<ReceivedJob[]>;
  stop(): Promise<void>;
}

export async function startFakeProcessor(): Promise<FakeProcessor> {
  const scripts = new Map<string, FakeAnswer[]>();
  const received: ReceivedJob[] = [];
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/healthz") return void res.writeHead(200).end("ok");
      if (req.method !== "POST" || req.url !== "/jobs") return void res.writeHead(404).end();
      const job = JSON.parse(raw) as EpisodeJob;
      received.push({ job, raw, headers: req.headers, at: Date.now() });
      const answers = scripts.get(job.episodeId) ?? scripts.get(job.podcastId) ?? [];
      const nth = received.filter((r) => r.job.episodeId === job.episodeId).length - 1;
      const answer: FakeAnswer = answers[Math.min(nth, answers.length - 1)] ?? { status: 200 };
      if (answer === "drop") return void req.socket.destroy();
      // Scripted bodies get the episode id every JobOutcome carries.
      const body =
        (answer.body && typeof answer.body === "object" ? { episodeId: job.episodeId, ...answer.body } : answer.body) ??
        (answer.status === 202
          ? { outcome: "accepted", episodeId: job.episodeId, attempt: nth + 1 }
          : answer.status === 200
            ? { outcome: "published", episodeId: job.episodeId }
            : { outcome: answer.status === 422 ? "rejected" : "retry", episodeId: job.episodeId, reason: `scripted ${answer.status}` });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const jobs = (episodeId?: string) => received.filter((r) => !episodeId || r.job.episodeId === episodeId);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script: (episodeId, answers) => void scripts.set(episodeId, answers),
    jobs,
    async waitForJobs(episodeId, count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (jobs(episodeId).length < count) {
        if (Date.now() > deadline)
          throw new Error(`fake processor: ${jobs(episodeId).length} of ${count} deliveries of ${episodeId} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return jobs(episodeId);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
