// The shared pieces both services run, in Node: the episode's transitions and
// the sweep's judgement, the job signature, and the text redaction every
// exported span and log line passes through.
import { describe, expect, it } from "vitest";
import type { Episode } from "../../shared/episode.ts";
import {
  DEFAULT_DEADLINES,
  MAX_RUNS,
  deadLettered,
  handoffFailed,
  rerun,
  runFailed,
  runStarted,
  strandedBecause,
  type Lease,
} from "../../shared/episode-lifecycle.ts";
import { jobSignatureProblem, signJob } from "../../shared/job-signature.ts";
import { parseJobOutcome } from "../../shared/job.ts";
import { redactText } from "../../shared/secret-text.ts";

const t0 = new Date("2026-12-01T10:00:00Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const queued: Episode = {
  episodeId: "e1",
  podcastId: "p1",
  title: "T",
  filename: "f.wav",
  sourceKey: "uploads/p1/e1/source",
  state: "queued",
  traceId: "0".repeat(32),
  attempts: 0,
  createdAt: t0.toISOString(),
  updatedAt: t0.toISOString(),
  uploadedAt: t0.toISOString(),
};
const lease = (expires: Date): Lease => ({
  episodeId: "e1",
  runId: "r",
  startedAt: t0.toISOString(),
  renewedAt: t0.toISOString(),
  expiresAt: expires.toISOString(),
});

describe("episode lifecycle", () => {
  it("counts attempts once per run; hand-off failures keep the delivery apart", () => {
    const failedHandoff = handoffFailed(queued, 3, "processor answered 503", at(1));
    expect(failedHandoff).toMatchObject({ state: "queued", attempts: 0, lastRetry: { attempt: 0, delivery: 3 } });
    const running = runStarted(failedHandoff, at(2));
    expect(running).toMatchObject({ state: "processing", attempts: 1, processingSince: at(2).toISOString() });
    const back = runFailed(running, "transcode: ffmpeg killed", "transcode", at(3));
    expect(back).toMatchObject({ state: "queued", attempts: 1, lastRetry: { attempt: 1, reason: "transcode: ffmpeg killed" } });
    expect(back.processingSince).toBeUndefined();
    expect(deadLettered(back, 6, at(4)).failure).toEqual({
      reason: "could not hand the job to the processor in 6 deliveries: transcode: ffmpeg killed",
      permanent: false,
      deadLettered: true,
    });
  });

  it("fails for good after MAX_RUNS runs, and a re-run gives a fresh budget", () => {
    let e = queued;
    for (let i = 0; i < MAX_RUNS; i++) e = runFailed(runStarted(e), "storage timed out", undefined);
    expect(e).toMatchObject({
      state: "failed",
      attempts: MAX_RUNS,
      failure: { permanent: false, reason: `processing failed after ${MAX_RUNS} runs: storage timed out` },
    });
    const again = rerun(e);
    expect(again).toMatchObject({ state: "queued", attempts: MAX_RUNS, attemptsAtRerun: MAX_RUNS });
    expect(again.failure).toBeUndefined();
    expect(runFailed(runStarted(again), "once more", undefined).state).toBe("queued");
  });

  it("the sweep: queued past its deadline, processing without a live lease, or past the run deadline", () => {
    const d = DEFAULT_DEADLINES;
    expect(strandedBecause(queued, undefined, at(d.queuedSeconds - 1), d)).toBeUndefined();
    expect(strandedBecause(queued, undefined, at(d.queuedSeconds + 1), d)).toMatch(/^queued for/);
    // A run that failed transiently waits a backoff, not the whole queued deadline.
    const afterRun = runFailed(runStarted(runFailed(runStarted(queued, t0), "x", undefined, t0), t0), "y", undefined, t0);
    expect(strandedBecause(afterRun, undefined, at(59), d)).toBeUndefined();
    expect(strandedBecause(afterRun, undefined, at(61), d)).toMatch(/^queued for/);
    const running = { ...runStarted(queued, t0), stage: "transcode" as const };
    expect(strandedBecause(running, lease(at(60)), at(30), d)).toBeUndefined();
    expect(strandedBecause(running, lease(at(60)), at(61), d)).toBe("processing transcode with no live run");
    expect(strandedBecause(running, undefined, at(30), d)).toBe("processing transcode with no live run");
    // Live lease, but longer than base + factor x duration: a 1-hour episode gets 10 min + 30 min.
    const hour = { ...running, durationSeconds: 3600 };
    expect(strandedBecause(hour, lease(at(99_999)), at(2399), d)).toBeUndefined();
    expect(strandedBecause(hour, lease(at(99_999)), at(2401), d)).toMatch(/more than 2400 s/);
  });
});

describe("job signature", () => {
  const secret = "a-secret-of-at-least-thirty-two-characters";
  it("accepts the edge's signature and refuses a changed body, another secret, or a stale one", async () => {
    const body = JSON.stringify({ episodeId: "e1" });
    const sig = await signJob(secret, body, t0);
    expect(await jobSignatureProblem(secret, body, sig, at(10))).toBeUndefined();
    expect(await jobSignatureProblem(secret, body.replace("e1", "e2"), sig, at(10))).toMatch(/does not match/);
    expect(await jobSignatureProblem(`${secret}!`, body, sig, at(10))).toMatch(/does not match/);
    expect(await jobSignatureProblem(secret, body, sig, at(301))).toMatch(/timestamp outside 300 s/);
    expect(await jobSignatureProblem(secret, body, null)).toMatch(/missing/);
    expect(await jobSignatureProblem(secret, body, "v1=abc")).toMatch(/malformed/);
  });

  it("the processor's answers parse through the shared contract", () => {
    expect(parseJobOutcome({ outcome: "accepted", episodeId: "e1", attempt: 2 })).toEqual({
      outcome: "accepted",
      episodeId: "e1",
      attempt: 2,
    });
    expect(parseJobOutcome({ outcome: "rejected", episodeId: "e1", reason: "no" })).toEqual({
      outcome: "rejected",
      episodeId: "e1",
      reason: "no",
    });
    expect(parseJobOutcome({ outcome: "rejected", episodeId: "e1" })).toBeUndefined();
    expect(parseJobOutcome({ outcome: "done", episodeId: "e1" })).toBeUndefined();
  });
});

describe("redaction", () => {
  const token = "pp_2ff82a25-12a4-499f-ac09-c2315badff4d_s3cr3tS3cr3tS3cr3tS3cr3t_x-y";
  it("drops an upload token's secret however a URL or file name carries it, keeping the podcast id", () => {
    for (const form of [token, encodeURIComponent(token).replaceAll("_", "%5F"), token.replaceAll("_", "%5f"), `${token}.wav`]) {
      const out = redactText(`GET /episodes/x?next=${form}&a=1 file ${form}`);
      expect(out, form).not.toContain("s3cr3t");
      expect(out).toContain("2ff82a25-12a4-499f-ac09-c2315badff4d");
    }
    expect(redactText("Authorization: Bearer abc.def")).toBe("Authorization: Bearer [REDACTED]");
    expect(redactText("/x?Access%5FToken=abc&b=2")).toBe("/x?Access%5FToken=[REDACTED]&b=2");
    expect(redactText("the signing secret 0123456789abcdef in a message", ["0123456789abcdef"])).toBe(
      "the signing secret [REDACTED] in a message",
    );
  });
});
