/**
 * The one way a job reaches the processor: `POST /jobs` with the EpisodeJob,
 * signed (shared/job-signature.ts), and a `traceparent` header.
 * DISPATCH_MODE picks where that request goes: a Cloudflare Container in
 * production, a plain HTTP process locally. The processor answers as soon as
 * the run has started: this request is bounded by DISPATCH_TIMEOUT_SECONDS,
 * not by the length of the processing.
 */
import { getContainer } from "@cloudflare/containers";
import type { Env } from "../env.ts";
import { signJob, SIGNATURE_HEADER } from "../../shared/job-signature.ts";
import { parseJobOutcome, type ProcessorJob } from "../../shared/job.ts";

/** What the queue does with the message after a hand-off. */
export type Handoff =
  /** A run started, one was already running, or the episode is already published: done with this message. */
  { outcome: "accepted" | "running" | "published" } | { outcome: "rejected"; reason: string } | { outcome: "retry"; reason: string };

const DEFAULT_TIMEOUT_SECONDS = 60;

export function dispatchTimeoutMs(env: Env): number {
  const n = Number(env.DISPATCH_TIMEOUT_SECONDS);
  return (Number.isFinite(n) && n > 0 ? n : DEFAULT_TIMEOUT_SECONDS) * 1000;
}

async function jobRequest(url: string, job: ProcessorJob, traceparent: string, secret: string): Promise<Request> {
  const body = JSON.stringify(job);
  const headers = new Headers({ "content-type": "application/json", traceparent, [SIGNATURE_HEADER]: await signJob(secret, body) });
  if (job.trace.tracestate) headers.set("tracestate", job.trace.tracestate);
  return new Request(url, { method: "POST", headers, body });
}

async function send(env: Env, job: ProcessorJob, traceparent: string, secret: string): Promise<Response> {
  const signal = AbortSignal.timeout(dispatchTimeoutMs(env));
  if (env.DISPATCH_MODE === "container") {
    // One container per episode: a redelivery finds the instance (and its run) it left.
    const container = getContainer(env.PROCESSOR, job.episodeId);
    return container.fetch(new Request(await jobRequest("http://processor/jobs", job, traceparent, secret), { signal }));
  }
  const base = env.PROCESSOR_URL.replace(/\/+$/, "");
  return fetch(await jobRequest(`${base}/jobs`, job, traceparent, secret), { signal });
}

/** Why the request failed, in words an operator can act on. */
function unreachable(err: unknown, env: Env): string {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (err instanceof Error && err.name === "TimeoutError")
    return `processor did not accept the job within ${dispatchTimeoutMs(env) / 1000} s`;
  // workerd reports a refused connection and a dropped one alike.
  const where = env.DISPATCH_MODE === "container" ? "the processor container" : env.PROCESSOR_URL;
  return `processor unreachable at ${where}: connection refused or dropped (${what})`;
}

/**
 * `traceparent`: the context the processor's spans continue (the consumer span's). Never throws:
 * anything that goes wrong on the way is a transient hand-off, retried by the queue.
 */
export async function dispatchJob(env: Env, job: ProcessorJob, traceparent: string): Promise<Handoff> {
  try {
    return await handOff(env, job, traceparent);
  } catch (err) {
    return { outcome: "retry", reason: err instanceof Error ? err.message : String(err) };
  }
}

async function handOff(env: Env, job: ProcessorJob, traceparent: string): Promise<Handoff> {
  if (!env.JOB_SIGNING_SECRET) return { outcome: "retry", reason: "JOB_SIGNING_SECRET is not set on the Worker: jobs cannot be signed" };
  let res: Response;
  let text: string;
  try {
    res = await send(env, job, traceparent, env.JOB_SIGNING_SECRET);
    text = await res.text();
  } catch (err) {
    return { outcome: "retry", reason: unreachable(err, env) };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const answer = parseJobOutcome(body);
  const loose = body as { reason?: unknown; error?: unknown } | undefined;
  const detail = answer && "reason" in answer ? answer.reason : (loose?.reason ?? loose?.error ?? text.slice(0, 200));
  const why = typeof detail === "string" && detail ? `: ${detail.slice(0, 500)}` : "";
  if ((res.status === 202 || res.status === 200) && answer && answer.outcome !== "rejected" && answer.outcome !== "retry") {
    return { outcome: answer.outcome };
  }
  if (res.status === 401 || res.status === 403) {
    // The signature was refused: a configuration problem (secrets differ), fixable without re-uploading.
    return {
      outcome: "retry",
      reason: `processor refused the job's signature (${res.status})${why}: check JOB_SIGNING_SECRET on both services`,
    };
  }
  if (res.status === 408 || res.status === 429 || res.status >= 500 || (res.status < 400 && answer?.outcome !== "rejected")) {
    return { outcome: "retry", reason: `processor answered ${res.status}${why}` };
  }
  // Any other 4xx (or an explicit rejection): the processor will never accept this job as sent.
  if (res.status === 422 && answer?.outcome === "rejected") return { outcome: "rejected", reason: answer.reason };
  return { outcome: "rejected", reason: `processor refused the job (${res.status})${why}` };
}
