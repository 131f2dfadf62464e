/**
 * The Worker's Cron Trigger (wrangler.toml `[triggers] crons`): every task in
 * SCHEDULED_TASKS runs on each tick; one task's failure is logged and does
 * not stop the others.
 */
import type { Env } from "../env.ts";
import { publishDueEpisodes } from "./scheduled-episodes.ts";

export type ScheduledTask = (env: Env, now: Date) => Promise<void>;

export const SCHEDULED_TASKS: ScheduledTask[] = [publishDueEpisodes];

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const now = new Date(controller.scheduledTime);
  for (const task of SCHEDULED_TASKS) {
    try {
      await task(env, now);
    } catch (err) {
      console.error(`scheduled task ${task.name} failed:`, err instanceof Error ? err.message : String(err));
    }
  }
}
