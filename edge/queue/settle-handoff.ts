/**
 * What a queue consumer does with the processor's answer to a job, whatever
 * its kind: ack what has started, is running or is done; ack what is refused
 * for good (the job's record says why); retry the rest with exponential
 * backoff (the record says what it waits for). After max_retries the queue
 * moves the message to the dead-letter queue.
 */
import type { Env } from "../env.ts";
import { ATTR } from "../../shared/telemetry.ts";
import type { Handoff } from "../dispatch/processor.ts";
import type { ManualSpan } from "../telemetry/fixed-span.ts";
import { retryBaseSeconds, retryDelaySeconds } from "./backoff.ts";

/** How a job kind writes the answer onto its record. */
export interface HandoffRecord {
  rejected(reason: string): Promise<void>;
  /** `delivery`: the queue's attempt number of this message. */
  retrying(delivery: number, reason: string): Promise<void>;
}

export async function settleHandoff(
  env: Env,
  msg: Message<unknown>,
  handoff: Handoff,
  span: ManualSpan,
  record: HandoffRecord,
  what: string,
): Promise<void> {
  span.setAttribute(ATTR.outcome, handoff.outcome);
  switch (handoff.outcome) {
    case "accepted":
    case "running":
    case "published":
      msg.ack();
      return;
    case "rejected":
      span.setAttribute(ATTR.failureReason, handoff.reason);
      await record.rejected(handoff.reason);
      msg.ack();
      return;
    case "retry": {
      const delaySeconds = retryDelaySeconds(msg.attempts, retryBaseSeconds(env.DISPATCH_RETRY_BASE_SECONDS));
      span.setAttribute(ATTR.failureReason, handoff.reason);
      span.setAttribute("audio.dispatch.retry_delay_seconds", delaySeconds);
      span.fail(handoff.reason);
      await record
        .retrying(msg.attempts, handoff.reason)
        .catch((err) => console.error(`${what}: could not record the retry reason: ${err instanceof Error ? err.message : err}`));
      msg.retry({ delaySeconds });
      return;
    }
  }
}
