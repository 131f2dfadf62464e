/**
 * The processor's settings, all from the environment (the Container's
 * envVars in production, local/stack.ts locally). Secrets are kept out of
 * anything printable: `describeConfig` is what may be logged.
 */
import { DEFAULT_DEADLINES } from "../shared/episode-lifecycle.ts";
import { SERVICE_NAMES } from "../shared/telemetry.ts";

export interface ProcessorConfig {
  /** PORT: HTTP port the processor listens on (default 8080). */
  port: number;
  /**
   * HOST: interface to listen on (default 127.0.0.1: only this machine may
   * reach it; the Container sets 0.0.0.0, where only its Worker can connect).
   */
  host: string;
  /** JOB_SIGNING_SECRET: HMAC key the edge signs every job with (shared/job-signature.ts). Never logged. */
  signingSecret: string;
  /** JOB_LEASE_SECONDS: a run's lease expires this long after its last renewal (renewed every third of it; default 60). */
  leaseSeconds: number;
  /** JOB_MAX_RUN_SECONDS: longest a run may take before it is stopped as a transient failure (default 10 min + 0.5 s per second of MAX_DURATION_SECONDS; README "Limits"). */
  maxRunSeconds: number;
  /** R2_S3_ENDPOINT: S3 API endpoint of R2 (https://<account>.r2.cloudflarestorage.com, or wrangler's local one). */
  s3Endpoint: string;
  /** R2_BUCKET: the one bucket holding records, uploads and public files. */
  bucket: string;
  /** R2_ACCESS_KEY_ID: S3 API token id. */
  accessKeyId: string;
  /** R2_SECRET_ACCESS_KEY: S3 API token secret. Never logged, never on a span. */
  secretAccessKey: string;
  /** PUBLIC_BASE_URL: where podcast apps reach /media and /feeds (the edge / CDN hostname). */
  publicBaseUrl: string;
  /** WORK_DIR: parent of the per-job temporary folders (each removed when its job ends, and at start-up after a crash). Private to one processor. Default: <OS temp dir>/podcast-processor. */
  workDir: string;
  /** FFMPEG_PATH: the ffmpeg binary (default: `ffmpeg` from PATH). */
  ffmpegPath: string;
  /** FFPROBE_PATH: the ffprobe binary (default: `ffprobe` from PATH). */
  ffprobePath: string;
  /** MAX_DURATION_SECONDS: longest episode accepted (default 4 h, what standard-2's disk and CPU allow: README "Limits"); longer sources are rejected. */
  maxDurationSeconds: number;
  /** FFMPEG_PROCESSES: ffmpeg processes a job runs at once (default: the CPUs available). Each uses one core and ~50-60 MB. */
  ffmpegProcesses?: number;
  /**
   * METRICS_BY_PODCAST=true: the stage and pipeline histograms and job counters also carry
   * audio.podcast.id, as the seed article breaks them down. Off by default: it multiplies their
   * series by the number of shows (README "Telemetry"); spans carry the podcast either way.
   */
  metricsByPodcast: boolean;
  /** OTEL_SERVICE_NAME: service.name of spans and metrics (default podcast-processor). */
  serviceName: string;
  /**
   * OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/HTTP base URL. Unset: no export at all.
   * OTEL_EXPORTER_OTLP_HEADERS (e.g. x-honeycomb-team=...) is read by the
   * exporters themselves and never copied anywhere else: it holds an API key.
   */
  otlpEndpoint?: string;
  /** OTEL_METRIC_EXPORT_INTERVAL: ms between metric exports (default 10000); each job also flushes at its end. */
  metricExportIntervalMs: number;
  /** SHUTDOWN_GRACE_SECONDS: on SIGTERM, how long the in-flight job may run before it is stopped and answered "retry" (default 600). */
  shutdownGraceSeconds: number;
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`missing required setting ${name}`);
  return v;
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
}

function signingSecret(env: Env): string {
  const v = required(env, "JOB_SIGNING_SECRET");
  if (v.length < 32) throw new Error("JOB_SIGNING_SECRET must be at least 32 characters");
  return v;
}

export function loadConfig(env: Env, tmpDir: string): ProcessorConfig {
  return {
    port: positiveNumber(env, "PORT", 8080),
    host: env.HOST || "127.0.0.1",
    signingSecret: signingSecret(env),
    leaseSeconds: positiveNumber(env, "JOB_LEASE_SECONDS", 60),
    s3Endpoint: required(env, "R2_S3_ENDPOINT"),
    bucket: required(env, "R2_BUCKET"),
    accessKeyId: required(env, "R2_ACCESS_KEY_ID"),
    secretAccessKey: required(env, "R2_SECRET_ACCESS_KEY"),
    publicBaseUrl: required(env, "PUBLIC_BASE_URL"),
    // A folder of its own: start-up removes every job folder in it (processor/storage/work-dir.ts).
    workDir: env.WORK_DIR || `${tmpDir.replace(/\/+$/, "")}/podcast-processor`,
    ffmpegPath: env.FFMPEG_PATH || "ffmpeg",
    ffprobePath: env.FFPROBE_PATH || "ffprobe",
    maxDurationSeconds: positiveNumber(env, "MAX_DURATION_SECONDS", DEFAULT_DEADLINES.maxDurationSeconds),
    maxRunSeconds: positiveNumber(
      env,
      "JOB_MAX_RUN_SECONDS",
      DEFAULT_DEADLINES.runBaseSeconds +
        DEFAULT_DEADLINES.runSecondsPerAudioSecond * positiveNumber(env, "MAX_DURATION_SECONDS", DEFAULT_DEADLINES.maxDurationSeconds),
    ),
    ffmpegProcesses: env.FFMPEG_PROCESSES ? Math.floor(positiveNumber(env, "FFMPEG_PROCESSES", 1)) : undefined,
    metricsByPodcast: env.METRICS_BY_PODCAST === "true",
    serviceName: env.OTEL_SERVICE_NAME || SERVICE_NAMES.processor,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    metricExportIntervalMs: positiveNumber(env, "OTEL_METRIC_EXPORT_INTERVAL", 10_000),
    shutdownGraceSeconds: positiveNumber(env, "SHUTDOWN_GRACE_SECONDS", 600),
  };
}

/** The settings as they may be printed: secrets replaced. */
export function describeConfig(c: ProcessorConfig): Record<string, unknown> {
  return {
    ...c,
    secretAccessKey: "[redacted]",
    signingSecret: "[redacted]",
    otlpEndpoint: c.otlpEndpoint ? new URL(c.otlpEndpoint).origin : undefined,
  };
}
