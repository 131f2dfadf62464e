/**
 * The Worker's Cron Trigger (wrangler.toml `[triggers] crons`, every minute):
 * each task in SCHEDULED_TASKS runs in turn; one task's failure is logged and
 * does not stop the others. Not wrapped by otel-cf-workers, so tasks get the
 * raw bindings (its wrapped Queue binding throws "Illegal invocation" on metrics()).
 */
import type { Env } from "../env.ts";
import { queueBacklog } from "./queue-backlog.ts";
import { publishDueEpisodes } from "./scheduled-episodes.ts";

export type ScheduledTask = (env: Env, now: Date) => Promise<void>;

export const SCHEDULED_TASKS: ScheduledTask[] = [queueBacklog, publishDueEpisodes];

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const now = new Date(controller.scheduledTime);
  for (const task of SCHEDULED_TASKS) {
    try {
      await task(env, now);
    } catch (err) {
      console.error(`scheduled task ${task.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
