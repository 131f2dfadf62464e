/** Queue names as wrangler.toml declares them; the producer binding (JOBS) does not know its own name. */
export const JOBS_QUEUE = "episode-jobs";

/** The dead letter queue of episode-jobs (and of any environment-suffixed copy). */
export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith("-dlq");
}
