/** The Worker's queue handler: episode jobs go to the processor, dead letters fail their episode. */
import type { Env } from "../env.ts";
import { edgeTelemetry } from "../telemetry/config.ts";
import { handleDeadLetter } from "./dead-letters.ts";
import { handleEpisodeJob } from "./episode-jobs.ts";
import { isDeadLetterQueue } from "./names.ts";

export async function consumeBatch(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const t = edgeTelemetry(env);
  const handle = isDeadLetterQueue(batch.queue) ? handleDeadLetter : handleEpisodeJob;
  // One at a time: each job holds a processor for minutes (max_batch_size is 1 anyway).
  for (const msg of batch.messages) {
    try {
      await handle(env, ctx, t, batch.queue, msg);
    } catch (err) {
      // Storage trouble and the like: this message again later; the others are unaffected.
      console.error(`queue ${batch.queue} message ${msg.id}: ${err instanceof Error ? err.message : err}`);
      msg.retry();
    }
  }
}
