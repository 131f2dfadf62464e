/**
 * The processor's HTTP surface, web-standard Request -> Response:
 *   POST /jobs   EpisodeJob -> 200 published | 422 rejected | 503 retry (JobOutcome)
 *   GET  /healthz
 * Trace context comes from the W3C traceparent header when the edge sent one,
 * else from the job body (queue messages carry it there).
 */
import { ROOT_CONTEXT, propagation, type Context } from "@opentelemetry/api";
import { parseEpisodeJob, type EpisodeJob, type JobOutcome } from "../shared/job.ts";
import { describeError } from "./errors.ts";
import { processJob, type JobDeps } from "./job.ts";

const MAX_BODY_BYTES = 64 * 1024;

export interface ProcessorApp {
  handle(req: Request): Promise<Response>;
  /** Stop taking jobs; resolves when the running ones have answered. */
  drain(): Promise<void>;
  readonly inFlight: number;
}

export function processorApp(deps: Omit<JobDeps, "signal">, stopSignal: AbortSignal): ProcessorApp {
  const running = new Set<Promise<unknown>>();
  let draining = false;

  const status: Record<JobOutcome["outcome"], number> = { published: 200, rejected: 422, retry: 503 };

  async function postJob(req: Request): Promise<Response> {
    const declared = Number(req.headers.get("content-length") ?? 0);
    if (declared > MAX_BODY_BYTES) return Response.json({ error: "job body too large" }, { status: 413 });
    let job: EpisodeJob;
    try {
      const text = await req.text();
      if (text.length > MAX_BODY_BYTES) return Response.json({ error: "job body too large" }, { status: 413 });
      job = parseEpisodeJob(JSON.parse(text));
    } catch (err) {
      return Response.json({ error: describeError(err) }, { status: 400 });
    }
    if (draining) {
      const outcome: JobOutcome = { outcome: "retry", episodeId: job.episodeId, reason: "the processor is shutting down" };
      return Response.json(outcome, { status: 503, headers: { "retry-after": "30" } });
    }
    const task = processJob(job, { ...deps, signal: stopSignal }, parentContext(req, job));
    running.add(task);
    try {
      const outcome = await task;
      const why = outcome.outcome === "published" ? "" : `: ${outcome.reason}`;
      console.log(`job ${job.episodeId}: ${outcome.outcome}${why}`);
      return Response.json(outcome, { status: status[outcome.outcome] });
    } finally {
      running.delete(task);
    }
  }

  return {
    async handle(req) {
      const { pathname } = new URL(req.url);
      if (pathname === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
        return Response.json({ ok: !draining, inFlight: running.size }, { status: draining ? 503 : 200 });
      }
      if (pathname === "/jobs") {
        if (req.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405, headers: { allow: "POST" } });
        return postJob(req);
      }
      return Response.json({ error: "not found" }, { status: 404 });
    },
    async drain() {
      draining = true;
      await Promise.allSettled([...running]);
    },
    get inFlight() {
      return running.size;
    },
  };
}

/** The edge's span: from the request's traceparent header if present, else from the job body. */
export function parentContext(req: Request, job: EpisodeJob): Context {
  const carrier: Record<string, string> = {};
  const header = req.headers.get("traceparent");
  if (header) {
    carrier.traceparent = header;
    const state = req.headers.get("tracestate");
    if (state) carrier.tracestate = state;
  } else {
    carrier.traceparent = job.trace.traceparent;
    if (job.trace.tracestate) carrier.tracestate = job.trace.tracestate;
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}
