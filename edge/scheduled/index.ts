/**
 * The Worker's scheduled work (Cron Trigger `* * * * *` in wrangler.toml):
 * every task in SCHEDULED_TASKS runs each minute, one after another. One
 * task's failure is logged and does not stop the others. Locally, wrangler
 * dev does not fire crons: local/stack.ts calls `/__scheduled` on the same
 * schedule (`--test-scheduled`), so the same handler runs. Not wrapped by
 * otel-cf-workers, so tasks get the raw bindings (its wrapped Queue binding
 * throws "Illegal invocation" on metrics()).
 */
import type { Env } from "../env.ts";
import { queueBacklog } from "./queue-backlog.ts";
import { publishDueEpisodes } from "./scheduled-episodes.ts";
import { sweepStrandedEpisodes } from "./sweep-stranded-episodes.ts";

export type ScheduledTask = (env: Env, now: Date) => Promise<void>;

export const SCHEDULED_TASKS: ScheduledTask[] = [sweepStrandedEpisodes, queueBacklog, publishDueEpisodes];

export async function runScheduled(_controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  for (const task of SCHEDULED_TASKS) {
    try {
      // The clock, not controller.scheduledTime: under wrangler dev's /__scheduled that is the cron's
      // next slot (up to a minute ahead), which would age every lease and deadline by as much.
      await task(env, new Date());
    } catch (err) {
      console.error(`scheduled task ${task.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
