/**
 * One run per episode at a time. The lease is a small R2 object written with
 * conditional requests: created only if absent (If-None-Match: *), taken over
 * or renewed only if unchanged since read (If-Match: etag). Of concurrent
 * deliveries exactly one wins; the others are answered "already running".
 * The holder renews it every third of its lifetime; a crashed run stops
 * renewing and the lease expires, after which a re-sent job may take it.
 */
import { randomUUID } from "node:crypto";
import { leaseExpired, leaseKey, type Lease } from "../../shared/episode-lifecycle.ts";
import type { ObjectStore } from "./object-store.ts";

export interface HeldLease {
  readonly lease: Lease;
  /** Aborted when the lease was lost (another run took it, or renewing kept failing): the run must stop and write nothing. */
  readonly lost: AbortSignal;
  /** Aborted when the run passed its deadline: it stops, records a transient failure, and the lease is released. */
  readonly overdue: AbortSignal;
  release(): Promise<void>;
}

function leaseFor(episodeId: string, runId: string, startedAt: Date, now: Date, ttlSeconds: number): Lease {
  return {
    episodeId,
    runId,
    startedAt: startedAt.toISOString(),
    renewedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
  };
}

/** The lease, or undefined when a live run holds it. */
export async function acquireLease(
  store: ObjectStore,
  episodeId: string,
  ttlSeconds: number,
  maxRunSeconds = Number.POSITIVE_INFINITY,
): Promise<HeldLease | undefined> {
  const key = leaseKey(episodeId);
  const runId = randomUUID();
  const started = new Date();
  const current = await store.getJsonVersion<Lease>(key);
  if (current && !leaseExpired(current.value, started)) return undefined;
  let lease = leaseFor(episodeId, runId, started, started, ttlSeconds);
  let etag = await store.putJsonIf(key, lease, current ? { ifMatch: current.etag } : { ifNoneMatch: "*" });
  if (etag === undefined) return undefined;

  const lost = new AbortController();
  const overdue = new AbortController();
  const deadline = setTimeout(
    () => overdue.abort(new Error(`the run passed its deadline of ${Math.round(maxRunSeconds)} s`)),
    Math.min(maxRunSeconds * 1000, 2 ** 31 - 1),
  );
  deadline.unref?.();
  let renewing: Promise<void> = Promise.resolve();
  let failures = 0;
  const renew = async () => {
    const next = leaseFor(episodeId, runId, started, new Date(), ttlSeconds);
    try {
      const tag = await store.putJsonIf(key, next, { ifMatch: etag! });
      if (tag === undefined) {
        lost.abort(new Error("the run's lease was taken over"));
        return;
      }
      etag = tag;
      lease = next;
      failures = 0;
    } catch (err) {
      // Storage hiccups: the lease has two more renewals' worth of life; give up before it expires.
      if (++failures >= 2) lost.abort(new Error(`could not renew the run's lease: ${(err as Error).message}`));
    }
  };
  let inFlight = false;
  const timer = setInterval(
    () => {
      // One renewal at a time: a slow store (a loaded machine) must not let a second renewal
      // go out with the etag the first is replacing; its 412 would read as a take-over.
      if (lost.signal.aborted || inFlight) return;
      inFlight = true;
      renewing = renew().finally(() => {
        inFlight = false;
      });
    },
    (ttlSeconds * 1000) / 3,
  );
  timer.unref?.();

  return {
    get lease() {
      return lease;
    },
    lost: lost.signal,
    overdue: overdue.signal,
    async release() {
      clearInterval(timer);
      clearTimeout(deadline);
      await renewing;
      // Only our own lease: never delete one another run took over.
      if (lost.signal.aborted) return;
      const mine = await store.getJsonVersion<Lease>(key).catch(() => undefined);
      if (mine?.value.runId === runId) await store.delete(key).catch(() => undefined);
    },
  };
}
