/**
 * The one way a job reaches the processor: `POST /jobs` with the EpisodeJob
 * and a `traceparent` header. DISPATCH_MODE picks where that request goes:
 * a Cloudflare Container in production, a plain HTTP process locally.
 */
import { getContainer } from "@cloudflare/containers";
import type { Env } from "../env.ts";
import type { EpisodeJob } from "../../shared/job.ts";

/** What the queue does with the message after a hand-off. */
export type Handoff =
  | { outcome: "published" }
  | { outcome: "rejected"; reason: string }
  | { outcome: "retry"; reason: string };

/** Processing runs inside the request; the queue consumer's wall time is 15 minutes. */
const DISPATCH_TIMEOUT_MS = 14 * 60 * 1000;

function jobRequest(url: string, job: EpisodeJob, traceparent: string): Request {
  const headers = new Headers({ "content-type": "application/json", traceparent });
  if (job.trace.tracestate) headers.set("tracestate", job.trace.tracestate);
  return new Request(url, { method: "POST", headers, body: JSON.stringify(job) });
}

async function send(env: Env, job: EpisodeJob, traceparent: string): Promise<Response> {
  if (env.DISPATCH_MODE === "container") {
    // One container per episode: a redelivery finds the instance (and its work dir) it left.
    const container = getContainer(env.PROCESSOR, job.episodeId);
    return container.fetch(jobRequest("http://processor/jobs", job, traceparent));
  }
  const base = env.PROCESSOR_URL.replace(/\/+$/, "");
  return fetch(jobRequest(`${base}/jobs`, job, traceparent), { signal: AbortSignal.timeout(DISPATCH_TIMEOUT_MS) });
}

/** The processor's answer body: its outcome and reason, if it sent JSON. */
async function answerOf(res: Response): Promise<{ outcome?: string; reason?: string }> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { outcome?: unknown; reason?: unknown; error?: unknown };
    const reason = body.reason ?? body.error;
    return {
      outcome: typeof body.outcome === "string" ? body.outcome : undefined,
      reason: typeof reason === "string" && reason ? reason.slice(0, 500) : undefined,
    };
  } catch {
    return { reason: text ? text.slice(0, 200) : undefined };
  }
}

/** `traceparent`: the context the processor's spans continue (the consumer span's). */
export async function dispatchJob(env: Env, job: EpisodeJob, traceparent: string): Promise<Handoff> {
  let res: Response;
  try {
    res = await send(env, job, traceparent);
  } catch (err) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { outcome: "retry", reason: `processor unreachable (${what})` };
  }
  const { outcome, reason } = await answerOf(res);
  if (res.status === 200) {
    return outcome === "retry" ? { outcome: "retry", reason: reason ?? "processor asked for a retry" } : { outcome: "published" };
  }
  if (res.status === 422) return { outcome: "rejected", reason: reason ?? "rejected by the processor" };
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return { outcome: "retry", reason: `processor answered ${res.status}${reason ? `: ${reason}` : ""}` };
  }
  // Any other 4xx: the processor will never accept this job as sent.
  return { outcome: "rejected", reason: `processor refused the job (${res.status})${reason ? `: ${reason}` : ""}` };
}
