/**
 * Span, attribute and metric names shared by the edge and the processor, so a
 * query in Honeycomb means the same thing on both sides. Custom attributes
 * live in the `audio.` namespace.
 */

export const STAGES = ["validate", "normalize", "transcode", "metadata", "waveform", "distribute"] as const;
export type StageName = (typeof STAGES)[number];

export const SPANS = {
  upload: "audio.upload",
  /** Each tus request about an upload, as its Durable Object handled it: children of audio.upload. */
  uploadCreate: "audio.upload.create",
  uploadPatch: "audio.upload.patch",
  uploadHead: "audio.upload.head",
  uploadDelete: "audio.upload.delete",
  pipeline: "audio.pipeline.process",
  stage: (stage: StageName) => `audio.${stage}`,
  rendition: (renditionId: string) => `audio.transcode.${renditionId}`,
  queueSend: (queue: string) => `send ${queue}`,
  queueProcess: (queue: string) => `process ${queue}`,
  /** A re-tag run (chapters supplied after publication written into the renditions), and each of its steps. */
  retag: "audio.chapters.retag",
  retagStep: (step: "download" | "rewrite" | "upload" | "switch" | "cleanup") => `audio.chapters.retag.${step}`,
} as const;

export const ATTR = {
  episodeId: "audio.episode.id",
  podcastId: "audio.podcast.id",
  fileName: "audio.file.name",
  fileSize: "audio.file.size",
  storagePath: "audio.storage.path",
  /** On the tus request spans (audio.upload.patch...): the upload's offset when the request began and ended. */
  uploadOffsetBefore: "audio.upload.offset_before",
  uploadOffsetAfter: "audio.upload.offset_after",
  /** Body bytes the request delivered (stored, or discarded on a checksum mismatch). */
  uploadBytesReceived: "audio.upload.bytes_received",
  /** Upload-Checksum's algorithm (sha1, sha256), when the client sent one. */
  uploadChecksumAlgorithm: "audio.upload.checksum_algorithm",
  stage: "audio.pipeline.stage",
  attempt: "audio.pipeline.attempt",
  outcome: "audio.pipeline.outcome",
  failureReason: "audio.failure.reason",
  format: "audio.format",
  codec: "audio.codec",
  durationSeconds: "audio.duration_seconds",
  sampleRate: "audio.sample_rate",
  channels: "audio.channels",
  bitrate: "audio.bitrate",
  renditionId: "audio.rendition.id",
  outputSize: "audio.output.size",
  chapterCount: "audio.chapters.count",
  hasChapters: "audio.chapters.present",
  loudnessTarget: "audio.loudness.target_lufs",
  loudnessInput: "audio.loudness.input_lufs",
  truePeakInput: "audio.loudness.input_true_peak_dbtp",
  loudnessGain: "audio.loudness.gain_db",
  /** `loudness.<rendition>.measured_lufs` as issue #4 names it, in our namespace. */
  renditionLoudness: (renditionId: string) => `audio.loudness.${renditionId}.measured_lufs`,
  renditionTruePeak: (renditionId: string) => `audio.loudness.${renditionId}.true_peak_dbtp`,
  /** The seed article's attributes (issue #11); set by the stage that knows them. */
  /** On audio.transcode: how many renditions it made. */
  formatCount: "audio.transcode.format_count",
  /** On each rendition span: it landed on the loudness target (true) or carries a warning (false). */
  renditionNormalized: "audio.rendition.normalized",
  /** On each rendition span: it needed a second full encode to land on target. */
  renditionCorrected: "audio.rendition.corrected",
  /** Why a rendition missed its loudness target after the processor's best effort (published with a warning). */
  loudnessWarning: "audio.loudness.warning",
  /** On audio.waveform: R2 key of the waveform JSON. */
  waveformPath: "audio.waveform.path",
  /** On audio.distribute: public URLs written behind the CDN, and whether the feed was regenerated. */
  cdnUrlCount: "audio.distribute.cdn_url_count",
  feedUpdated: "audio.distribute.feed_updated",
  /** On audio.pipeline.process: the whole job's wall time, seconds. */
  totalDurationSeconds: "audio.pipeline.total_duration_seconds",
  /** Edge metrics' attributes: what became of an abandoned upload, of a hand-off to the processor. */
  uploadOutcome: "audio.upload.outcome",
  dispatchOutcome: "audio.dispatch.outcome",
  /** On `process episode-jobs`: seconds from the job's send to this delivery. */
  queueWaitSeconds: "audio.queue.wait_seconds",
  /** On audio.chapters.retag and its steps: renditions re-tagged, their new file generation, the chapters' revision. */
  retagRenditionCount: "audio.chapters.retag.rendition_count",
  retagGeneration: "audio.chapters.retag.generation",
  retagRevision: "audio.chapters.retag.revision",
} as const;

/** OpenTelemetry messaging conventions the queue spans and backlog gauges use. */
export const MESSAGING = {
  /** Cloudflare Queues has no registered messaging.system value; this is ours. */
  system: "cloudflare_queues",
  systemAttr: "messaging.system",
  destination: "messaging.destination.name",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  messageId: "messaging.message.id",
} as const;

export const METRICS = {
  uploadDuration: "audio.upload.duration",
  stageDuration: "audio.pipeline.stage_duration",
  totalDuration: "audio.pipeline.total_duration",
  jobsInProgress: "audio.pipeline.jobs_in_progress",
  jobsCompleted: "audio.pipeline.jobs_completed",
  jobsFailed: "audio.pipeline.jobs_failed",
  /** Queue backlog gauges, read by the edge's scheduled handler (issue #11); attribute messaging.destination.name. */
  queueBacklogMessages: "audio.queue.backlog.messages",
  queueBacklogBytes: "audio.queue.backlog.bytes",
  queueOldestMessageAge: "audio.queue.backlog.oldest_age",
  /** The edge's own event metrics (edge/telemetry/metrics.ts). */
  uploadsCompleted: "audio.uploads.completed",
  uploadsAbandoned: "audio.uploads.abandoned",
  dispatchOutcomes: "audio.dispatch.outcomes",
  /** Seconds from a job's send to its delivery to the consumer. */
  queueWait: "audio.queue.wait",
} as const;

export const SERVICE_NAMES = { edge: "podcast-edge", processor: "podcast-processor" } as const;
