/** The Worker's queue handler: episode jobs go to the processor, dead letters fail their episode. */
import type { Env } from "../env.ts";
import { edgeTelemetry } from "../telemetry/config.ts";
import { handleDeadLetter } from "./dead-letters.ts";
import { handleEpisodeJob } from "./episode-jobs.ts";
import { isDeadLetterQueue } from "./names.ts";
import { handleRetagJob, isRetagChaptersJob } from "../episodes/retag-job.ts";

export async function consumeBatch(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const t = edgeTelemetry(env);
  const dead = isDeadLetterQueue(batch.queue);
  // One at a time: each job holds a processor for minutes (max_batch_size is 1 anyway).
  for (const msg of batch.messages) {
    // Chapters re-tags share the queue; their dead letters need nothing (the record already says what is pending).
    const handle = isRetagChaptersJob(msg.body) ? (dead ? ackOnly : handleRetagJob) : dead ? handleDeadLetter : handleEpisodeJob;
    try {
      await handle(env, ctx, t, batch.queue, msg);
    } catch (err) {
      // Storage trouble and the like: this message again later; the others are unaffected.
      console.error(`queue ${batch.queue} message ${msg.id}: ${err instanceof Error ? err.message : err}`);
      msg.retry();
    }
  }
}

async function ackOnly(_env: Env, _ctx: ExecutionContext, _t: unknown, _queue: string, msg: Message<unknown>): Promise<void> {
  msg.ack();
}
