import type { EpisodeUpload } from "./upload/episode-upload.ts";
import type { ProcessorContainer } from "./dispatch/container.ts";
import type { EpisodeJob } from "../shared/job.ts";

/** Bindings and settings of the edge Worker (see wrangler.toml and README "Configuration"). */
export interface Env {
  MEDIA: R2Bucket;
  JOBS: Queue<EpisodeJob>;
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
  /** Longest episode the upload page lets through (the processor's MAX_DURATION_SECONDS; default 6 h). */
  MAX_DURATION_SECONDS?: string;

  /** Secrets. */
  ADMIN_TOKEN?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
}
