/** Seconds before the next delivery of a job whose hand-off failed: exponential in the attempt number. */
export const MAX_DELAY_SECONDS = 12 * 60 * 60; // the Queues maximum

/**
 * `attempt` is the delivery that just failed (msg.attempts, from 1).
 * `baseSeconds` comes from DISPATCH_RETRY_BASE_SECONDS (default 30): 30, 60,
 * 120, 240, 480 s - a container's cold start or a processor restart fits in.
 * Never below 1 s: the runtime reads `delaySeconds: 0` as "not set" and falls
 * back to the queue's retry_delay.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number): number {
  if (!Number.isFinite(baseSeconds) || baseSeconds <= 0) return 1;
  const exponent = Math.max(0, Math.min(attempt - 1, 20));
  return Math.max(1, Math.min(MAX_DELAY_SECONDS, Math.round(baseSeconds * 2 ** exponent)));
}

export function retryBaseSeconds(raw: string | undefined): number {
  const n = raw === undefined || raw === "" ? 30 : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : 30;
}
