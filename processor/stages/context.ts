import type { Span } from "@opentelemetry/api";
import type { Slots } from "../media/slots.ts";
import type { MediaTools } from "../media/tools.ts";

/** What every stage gets besides its own typed input: provided by runStage (processor/pipeline.ts). */
export interface StageContext {
  tools: MediaTools;
  /** The job's private temporary folder; removed when the job ends. */
  jobDir: string;
  /** Aborted on shutdown: running ffmpeg processes are killed and the job answers "retry". */
  signal: AbortSignal;
  /** This stage's span, for the stage's own attributes. Its parent is audio.pipeline.process. */
  span: Span;
  /** At most one ffmpeg per core, shared by every stage of the job (default: one slot per CPU). */
  slots?: Slots;
}
