/**
 * The operators' view of the pipeline in Honeycomb, as data: the board's
 * queries, the alerts, the SLO and its burn alerts, and the derived columns
 * they share. Every span, attribute and metric name comes from
 * shared/telemetry.ts, so renaming one changes what is generated here and
 * test/ops/emitted-columns.test.ts checks the result against the OTLP the services
 * really export. terraform.ts turns this into main.tf.json.
 */
import { ATTR, MESSAGING, METRICS, SPANS, STAGES } from "../../shared/telemetry.ts";
import { JOBS_QUEUE } from "../../edge/queue/names.ts";
import type { Filter, QuerySpec } from "./query-spec.ts";

/** Where events land: traces in one dataset per service.name, metrics in x-honeycomb-dataset's. */
export type Dataset = "edge" | "processor" | "metrics";

/** Columns Honeycomb derives from every span (not attributes): https://docs.honeycomb.io's OpenTelemetry field mapping. */
export const SPAN_FIELDS = {
  name: "name",
  durationMs: "duration_ms",
  /** true when the span's status is ERROR. */
  error: "error",
  traceId: "trace.trace_id",
  serviceName: "service.name",
} as const;

const DLQ = `${JOBS_QUEUE}-dlq`;
const STAGE_SPANS = STAGES.map((s) => SPANS.stage(s));
const stageSpans: Filter = { column: SPAN_FIELDS.name, op: "in", value: STAGE_SPANS };
const pipelineSpan: Filter = { column: SPAN_FIELDS.name, op: "=", value: SPANS.pipeline };
const DAY = 86_400;

export interface DerivedColumn {
  key: string;
  dataset: Dataset;
  alias: string;
  expression: string;
  description: string;
}

/**
 * The SLA, "10 minutes for a 1-hour episode": a job may take a sixth of the
 * audio's length, and at least a minute (short clips' fixed costs - download,
 * container start - are not what the SLA is about). The job's time is the
 * processor's total_duration_seconds, or its span's own duration.
 */
const SLA_RATIO = `DIV(COALESCE($${ATTR.totalDurationSeconds}, DIV($${SPAN_FIELDS.durationMs}, 1000)), MAX(60, DIV($${ATTR.durationSeconds}, 6)))`;

export const DERIVED_COLUMNS: DerivedColumn[] = [
  {
    key: "sla_ratio",
    dataset: "processor",
    alias: "pipeline.sla_ratio",
    expression: `IF(AND(EQUALS($${SPAN_FIELDS.name}, "${SPANS.pipeline}"), EXISTS($${ATTR.durationSeconds})), ${SLA_RATIO})`,
    description: "A published job's time over its SLA (10 minutes per hour of audio, at least 1 minute): above 1 is late.",
  },
  {
    key: "sli_publish_within_sla",
    dataset: "processor",
    alias: "sli.publish_within_sla",
    // Eligible: every processing run except bad input (the creator's, not ours).
    // Good: it published, within the SLA. A run that ended in retry spent the episode's time for nothing.
    expression:
      `IF(AND(EQUALS($${SPAN_FIELDS.name}, "${SPANS.pipeline}"), NOT(EQUALS($${ATTR.outcome}, "rejected"))), ` +
      `AND(EQUALS($${ATTR.outcome}, "published"), EXISTS($${ATTR.durationSeconds}), LTE(${SLA_RATIO}, 1)))`,
    description: "SLI: the processing run published the episode within 10 minutes per hour of audio (at least 1 minute).",
  },
];

export type ChartType = "line" | "tsbar" | "stacked" | "stat" | "cpie" | "cbar" | "default";

export interface BoardQuery {
  key: string;
  dataset: Dataset;
  name: string;
  /** The question the view answers (the annotation's description, and README "Operating it"). */
  answers: string;
  spec: QuerySpec;
  chart?: ChartType;
}

export const BOARD_QUERIES: BoardQuery[] = [
  {
    key: "throughput_by_podcast",
    dataset: "processor",
    name: "Episodes published, by podcast",
    answers: "Is the pipeline publishing, and for which shows? (spans: one audio.pipeline.process per run)",
    spec: {
      calculations: [{ op: "COUNT" }],
      filters: [pipelineSpan, { column: ATTR.outcome, op: "=", value: "published" }],
      breakdowns: [ATTR.podcastId],
      time_range: DAY,
    },
    chart: "tsbar",
  },
  {
    key: "stage_latency",
    dataset: "processor",
    name: "Time per stage (stacked)",
    answers: "Where does an episode's processing time go? The stacked averages add up to the average job.",
    spec: {
      calculations: [
        { op: "AVG", column: SPAN_FIELDS.durationMs },
        { op: "P95", column: SPAN_FIELDS.durationMs },
      ],
      filters: [stageSpans],
      breakdowns: [ATTR.stage],
      time_range: DAY,
    },
    chart: "stacked",
  },
  {
    key: "queue_depth",
    dataset: "metrics",
    name: "Queue depth and oldest message",
    answers: "Are jobs waiting, and for how long? episode-jobs and its dead letter queue, read every minute.",
    spec: {
      calculations: [
        { op: "MAX", column: METRICS.queueBacklogMessages },
        { op: "MAX", column: METRICS.queueOldestMessageAge },
        { op: "MAX", column: METRICS.queueBacklogBytes },
      ],
      breakdowns: [MESSAGING.destination],
      time_range: DAY,
    },
    chart: "line",
  },
  {
    key: "failure_rate_by_stage",
    dataset: "processor",
    name: "Failure rate by stage",
    answers: "Which stage fails, and how often? Share of stage spans that ended in error (bad input included).",
    spec: {
      calculated_fields: [{ name: "stage_failed", expression: `IF($${SPAN_FIELDS.error}, 1, 0)` }],
      calculations: [{ op: "AVG", column: "stage_failed" }, { op: "COUNT" }],
      filters: [stageSpans],
      breakdowns: [ATTR.stage],
      time_range: DAY,
    },
    chart: "line",
  },
  {
    key: "failure_reasons",
    dataset: "processor",
    name: "Failures by stage and reason",
    answers: "Why did jobs fail? Rejected (the creator's file) and retry (ours) with the reason.",
    spec: {
      calculations: [{ op: "COUNT" }],
      filters: [stageSpans, { column: SPAN_FIELDS.error, op: "=", value: true }],
      breakdowns: [ATTR.stage, ATTR.outcome, ATTR.failureReason],
      time_range: DAY,
    },
    chart: "tsbar",
  },
  {
    key: "publish_time_vs_sla",
    dataset: "processor",
    name: "Publish time against the SLA",
    answers: "How close are jobs to 10 minutes per hour of audio? Above 1 is late.",
    spec: {
      calculations: [
        { op: "MAX", column: "pipeline.sla_ratio" },
        { op: "P95", column: "pipeline.sla_ratio" },
      ],
      filters: [pipelineSpan, { column: ATTR.outcome, op: "=", value: "published" }],
      time_range: DAY,
    },
    chart: "line",
  },
  {
    key: "uploads_in_progress",
    dataset: "edge",
    name: "Uploads receiving data",
    answers: "How many uploads are under way? Distinct episodes whose tus requests arrived in each interval.",
    spec: {
      calculations: [{ op: "COUNT_DISTINCT", column: ATTR.episodeId }],
      filters: [{ column: SPAN_FIELDS.name, op: "in", value: [SPANS.uploadCreate, SPANS.uploadPatch, SPANS.uploadHead] }],
      time_range: DAY,
    },
    chart: "line",
  },
  {
    key: "uploads_abandoned",
    dataset: "metrics",
    name: "Uploads completed and abandoned",
    answers: "Do creators finish their uploads? Abandoned by outcome: terminated, expired, rejected (not audio).",
    spec: {
      calculations: [
        { op: "SUM", column: METRICS.uploadsAbandoned },
        { op: "SUM", column: METRICS.uploadsCompleted },
      ],
      breakdowns: [ATTR.uploadOutcome],
      time_range: DAY,
    },
    chart: "tsbar",
  },
  {
    key: "dispatch_outcomes",
    dataset: "metrics",
    name: "Hand-offs to the processor, by outcome",
    answers:
      "What happens to queue deliveries? accepted (a run started) or running (one already holds the episode), published (already done), " +
      "rejected (refused: the job does not match the episode record), retry (processor down or 5xx), dead_letter (retries used up). " +
      "A run's own result is on audio.pipeline.process, not here.",
    spec: {
      calculations: [{ op: "SUM", column: METRICS.dispatchOutcomes }],
      breakdowns: [ATTR.dispatchOutcome],
      time_range: DAY,
    },
    chart: "tsbar",
  },
  {
    key: "queue_wait",
    dataset: "metrics",
    name: "Queue wait, by attempt",
    answers: "How long does a job wait before the processor gets it? First attempts growing = backlog; later ones include backoff.",
    spec: {
      calculations: [
        { op: "P50", column: METRICS.queueWait },
        { op: "P95", column: METRICS.queueWait },
      ],
      filters: [{ column: MESSAGING.destination, op: "=", value: JOBS_QUEUE }],
      breakdowns: [ATTR.attempt],
      time_range: DAY,
    },
    chart: "line",
  },
  {
    key: "loudness_corrections",
    dataset: "processor",
    name: "Loudness: renditions corrected or off target",
    answers: "How often does a rendition need a second encode, and does any miss its target (published with a warning)?",
    spec: {
      calculations: [{ op: "COUNT" }],
      filters: [{ column: ATTR.renditionId, op: "exists" }],
      breakdowns: [ATTR.renditionId, ATTR.renditionCorrected, ATTR.renditionNormalized],
      time_range: DAY,
    },
    chart: "tsbar",
  },
  {
    key: "loudness_warnings",
    dataset: "processor",
    name: "Loudness warnings, by podcast",
    answers: "Which shows' episodes published with a loudness warning, and why?",
    spec: {
      calculations: [{ op: "COUNT" }],
      filters: [{ column: ATTR.loudnessWarning, op: "exists" }],
      breakdowns: [ATTR.podcastId, ATTR.renditionId, ATTR.loudnessWarning],
      time_range: DAY,
    },
    chart: "tsbar",
  },
];

export interface Trigger {
  key: string;
  dataset: Dataset;
  name: string;
  /** Threshold and why: README "Operating it" is written from these. */
  description: string;
  spec: QuerySpec;
  /** Seconds between evaluations. */
  frequency: number;
  threshold: { op: ">" | ">=" | "<" | "<="; value: number; exceeded_limit?: number };
  baseline?: { type: "percentage" | "value"; offset_minutes: 60 | 1440 | 10080 | 40320 };
}

export const TRIGGERS: Trigger[] = [
  {
    key: "publish_over_sla",
    dataset: "processor",
    name: "An episode took longer than its SLA to publish",
    description:
      "A job published later than 10 minutes per hour of audio (at least 1 minute) in the last hour. " +
      "Creators expect a 1-hour episode live within 10 minutes; open the board's stage view to see which stage grew.",
    spec: {
      calculations: [{ op: "MAX", column: "pipeline.sla_ratio" }],
      filters: [pipelineSpan, { column: ATTR.outcome, op: "=", value: "published" }],
      time_range: 3600,
    },
    frequency: 900,
    threshold: { op: ">", value: 1 },
  },
  {
    key: "failure_rate",
    dataset: "processor",
    name: "More than 2% of processing runs failed in 30 minutes",
    description:
      "Share of processing runs (audio.pipeline.process) that ended rejected (bad input) or retry (a transient failure), over the last 30 minutes, " +
      "checked every 10 (so any 30-minute window), once at least 10 runs ended. The edge only hands a job over and is answered at once, " +
      "so the run's result is known here; jobs that never reach a run are the dead-letter trigger's.",
    spec: {
      calculated_fields: [{ name: "run_failed", expression: `IF(EQUALS($${ATTR.outcome}, "published"), 0, 1)` }],
      calculations: [{ op: "AVG", column: "run_failed" }, { op: "COUNT" }],
      filters: [pipelineSpan, { column: ATTR.outcome, op: "exists" }],
      havings: [{ calculate_op: "COUNT", op: ">=", value: 10 }],
      time_range: 1800,
    },
    frequency: 600,
    threshold: { op: ">", value: 0.02 },
  },
  {
    key: "jobs_dead_lettered",
    dataset: "edge",
    name: "An episode was dead-lettered: the processor could not be reached",
    description:
      "A job's hand-off failed on every delivery (processor down, 5xx, timeout: about 15 minutes of retries) and the episode was marked failed " +
      "in the last 30 minutes. No processing run saw it, so the failure rate does not count it. Fix the processor, then re-run the episode " +
      "(POST /operators/episodes/<episodeId>/rerun).",
    spec: {
      calculations: [{ op: "COUNT" }],
      filters: [
        { column: SPAN_FIELDS.name, op: "=", value: SPANS.queueProcess(DLQ) },
        { column: ATTR.outcome, op: "=", value: "dead_letter" },
      ],
      time_range: 1800,
    },
    frequency: 600,
    threshold: { op: ">", value: 0 },
  },
  {
    key: "queue_not_draining",
    dataset: "metrics",
    name: "episode-jobs has been backing up for more than 15 minutes",
    description:
      "The oldest waiting job stayed older than 15 minutes for 5 minutes. A backlog that grows for 15 minutes always leaves a message " +
      "that old at its head; one the consumer keeps up with never does (a retried job waits at most 8 minutes between attempts).",
    spec: {
      calculations: [{ op: "MIN", column: METRICS.queueOldestMessageAge }],
      filters: [{ column: MESSAGING.destination, op: "=", value: JOBS_QUEUE }],
      time_range: 300,
    },
    frequency: 300,
    threshold: { op: ">", value: 900 },
  },
  {
    key: "stage_p95_doubled",
    dataset: "processor",
    name: "A stage's p95 is twice its normal value",
    description:
      "Per stage, the p95 duration of the last hour against the same hour a day earlier: +100% or more fires. " +
      "Stage times scale with the audio's length, so a day of unusually long episodes can trip it; the stage view tells.",
    spec: {
      calculations: [{ op: "P95", column: SPAN_FIELDS.durationMs }],
      filters: [stageSpans],
      breakdowns: [ATTR.stage],
      time_range: 3600,
    },
    frequency: 900,
    threshold: { op: ">=", value: 100 },
    baseline: { type: "percentage", offset_minutes: 1440 },
  },
];

export interface Slo {
  key: string;
  dataset: Dataset;
  name: string;
  description: string;
  /** Alias of a DERIVED_COLUMNS entry in the same dataset. */
  sli: string;
  targetPercentage: number;
  timePeriodDays: number;
}

export const SLO: Slo = {
  key: "publish_within_sla",
  dataset: "processor",
  name: "Episodes publish within 10 minutes per hour of audio",
  description: "99% of processing runs (bad input aside) publish within 10 minutes per hour of audio, at least 1 minute, over 30 days.",
  sli: "sli.publish_within_sla",
  targetPercentage: 99,
  timePeriodDays: 30,
};

export type BurnAlert =
  | { key: string; alert_type: "exhaustion_time"; exhaustion_minutes: number; description: string }
  | {
      key: string;
      alert_type: "budget_rate";
      budget_rate_window_minutes: number;
      budget_rate_decrease_percent: number;
      description: string;
    };

export const BURN_ALERTS: BurnAlert[] = [
  {
    key: "budget_exhausted_in_4h",
    alert_type: "exhaustion_time",
    exhaustion_minutes: 240,
    description: "At the last hours' rate of late or failed runs, the month's error budget is gone within 4 hours: page.",
  },
  {
    key: "budget_burning_fast",
    alert_type: "budget_rate",
    budget_rate_window_minutes: 60,
    budget_rate_decrease_percent: 5,
    description: "5% of the month's error budget burned within one hour.",
  },
];

export const BOARD = {
  name: "Podcast pipeline",
  description:
    "From upload to published feed: throughput, where the time goes, queue depth, failures, uploads, hand-offs, loudness. " +
    'Generated by ops/honeycomb (README "Operating it").',
  presetFilters: [
    { column: ATTR.podcastId, alias: "Podcast" },
    { column: ATTR.episodeId, alias: "Episode" },
  ],
  findAnEpisode:
    "## An episode is stuck?\n" +
    "1. `GET /episodes/<episodeId>` (the creator's upload token or the admin token) shows its state, and `links.trace` opens its trace here.\n" +
    "2. No link configured: filter any query on `" +
    ATTR.episodeId +
    " = <episodeId>`, or open `/trace?trace_id=<traceId>` with the status's `traceId`.",
} as const;
