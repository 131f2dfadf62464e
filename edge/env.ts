import type { EpisodeUpload } from "./upload/episode-upload.ts";
import type { ProcessorContainer } from "./dispatch/container.ts";
import type { ProcessorJob } from "../shared/job.ts";

/** Bindings and settings of the edge Worker (see wrangler.toml and README "Configuration"). */
export interface Env {
  MEDIA: R2Bucket;
  JOBS: Queue<ProcessorJob>;
  /** Producer binding of episode-jobs-dlq: only read, for its backlog (edge/scheduled/queue-backlog.ts). */
  JOBS_DLQ: Queue<unknown>;
  UPLOADS: DurableObjectNamespace<EpisodeUpload>;
  PROCESSOR: DurableObjectNamespace<ProcessorContainer>;

  PUBLIC_BASE_URL: string;
  DISPATCH_MODE: "http" | "container";
  PROCESSOR_URL: string;
  MAX_UPLOAD_BYTES: string;
  UPLOAD_PART_BYTES: string;
  UPLOAD_EXPIRY_SECONDS: string;
  ALLOWED_ORIGINS: string;
  /** Browser origins that may read feeds and media (CORS): "*" (default) or a comma-separated list. */
  DELIVERY_ORIGINS?: string;
  /** Base of the exponential retry delay of a failed hand-off, seconds (default 30). */
  DISPATCH_RETRY_BASE_SECONDS?: string;
  OTEL_SERVICE_NAME?: string;
  /** Honeycomb links in the status API (edge/episodes/honeycomb-links.ts); without team and environment, none. */
  HONEYCOMB_TEAM?: string;
  HONEYCOMB_ENVIRONMENT?: string;
  HONEYCOMB_DATASET?: string;
  HONEYCOMB_UI_URL?: string;
  /** How long the consumer waits for the processor to accept a job (it answers once the run has started), seconds (default 60). */
  DISPATCH_TIMEOUT_SECONDS?: string;
  /** Sweep deadlines (shared/episode-lifecycle.ts DEFAULT_DEADLINES; README "Limits"). */
  SWEEP_QUEUED_SECONDS?: string;
  SWEEP_RUN_BASE_SECONDS?: string;
  SWEEP_RUN_SECONDS_PER_AUDIO_SECOND?: string;
  /** The processor's MAX_DURATION_SECONDS, for the run deadline of an episode whose duration is not known yet, and the longest episode the upload page lets through. */
  MAX_DURATION_SECONDS?: string;

  /** Secrets. */
  ADMIN_TOKEN?: string;
  /** HMAC key of every job sent to the processor (shared/job-signature.ts); the processor has the same. */
  JOB_SIGNING_SECRET?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
}
