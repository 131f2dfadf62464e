/**
 * The processor's HTTP surface, web-standard Request -> Response:
 *   POST /jobs   a signed EpisodeJob or RetagChaptersJob -> 202 accepted | 202 running | 200 published
 *                | 401/403 unsigned or forged | 400 malformed | 404/409/422 refused | 503 retry
 *   GET  /healthz
 * The answer comes as soon as the run has started (or was refused); the run
 * reports its end through the episode record. Trace context comes from the
 * W3C traceparent header when the edge sent one, else from the job body.
 */
import { ROOT_CONTEXT, propagation, type Context } from "@opentelemetry/api";
import { jobSignatureProblem, SIGNATURE_HEADER } from "../shared/job-signature.ts";
import { OUTCOME_STATUS, isRetagChaptersJob, parseProcessorJob, type JobOutcome, type ProcessorJob } from "../shared/job.ts";
import { describeError } from "./errors.ts";
import { startJob, type JobDeps } from "./job.ts";
import { startRetag } from "./retag/start-retag.ts";

const MAX_BODY_BYTES = 64 * 1024;

export interface ProcessorApp {
  handle(req: Request): Promise<Response>;
  /** Stop taking jobs; resolves when the running ones have ended. */
  drain(): Promise<void>;
  readonly inFlight: number;
}

export interface ProcessorAppDeps extends Omit<JobDeps, "signal"> {
  /** JOB_SIGNING_SECRET: only jobs signed with it are taken. */
  signingSecret: string;
}

export function processorApp(deps: ProcessorAppDeps, stopSignal: AbortSignal): ProcessorApp {
  const running = new Set<Promise<unknown>>();
  let draining = false;

  async function postJob(req: Request): Promise<Response> {
    const declared = Number(req.headers.get("content-length") ?? 0);
    if (declared > MAX_BODY_BYTES) return Response.json({ error: "job body too large" }, { status: 413 });
    const text = await req.text();
    if (text.length > MAX_BODY_BYTES) return Response.json({ error: "job body too large" }, { status: 413 });
    // Before anything else is read from the body: only the edge starts jobs.
    const header = req.headers.get(SIGNATURE_HEADER);
    const problem = await jobSignatureProblem(deps.signingSecret, text, header);
    if (problem) return Response.json({ error: problem }, { status: header ? 403 : 401 });
    let job: ProcessorJob;
    try {
      job = parseProcessorJob(JSON.parse(text));
    } catch (err) {
      return Response.json({ error: describeError(err) }, { status: 400 });
    }
    if (draining) {
      const outcome: JobOutcome = { outcome: "retry", episodeId: job.episodeId, reason: "the processor is shutting down" };
      return Response.json(outcome, { status: OUTCOME_STATUS.retry, headers: { "retry-after": "30" } });
    }
    let start: Awaited<ReturnType<typeof startJob>> | Awaited<ReturnType<typeof startRetag>>;
    try {
      const jobDeps = { ...deps, signal: stopSignal };
      // A retag-chapters job rewrites the renditions' chapters (processor/retag/); any other is the pipeline.
      start = isRetagChaptersJob(job)
        ? await startRetag(job, jobDeps, parentContext(req, job))
        : await startJob(job, jobDeps, parentContext(req, job));
    } catch (err) {
      // Storage unreachable before the run could start: nothing changed, the queue retries.
      const outcome: JobOutcome = { outcome: "retry", episodeId: job.episodeId, reason: describeError(err) };
      return Response.json(outcome, { status: OUTCOME_STATUS.retry });
    }
    if (start.run) {
      const task = start.run().catch((err) => console.error(`job ${job.episodeId}: run failed: ${describeError(err)}`));
      running.add(task);
      void task.finally(() => running.delete(task));
    }
    const why = "reason" in start.outcome ? `: ${start.outcome.reason}` : "";
    console.log(`job ${job.episodeId}: ${start.outcome.outcome}${why}`);
    return Response.json(start.outcome, { status: start.status });
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
export function parentContext(req: Request, job: ProcessorJob): Context {
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
