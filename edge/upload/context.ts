import type { Env } from "../env.ts";
import type { UploadLimits } from "./limits.ts";
import type { UploadStore } from "./store.ts";
import type { UploadRecords } from "./upload-record.ts";

/** Returned by `exclusive` when another request holds the upload. */
export const BUSY = Symbol("busy");

/** What the protocol handlers and the alarm work with, inside the upload's Durable Object. */
export interface UploadContext {
  env: Env;
  limits: UploadLimits;
  records: UploadRecords;
  store: UploadStore;
  /** Runs `work` as the only writer of this upload, or returns BUSY at once if another request is writing. */
  exclusive<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T | typeof BUSY>;
  /** Cancels the request currently writing (its signal aborts), waits for it, then runs `work`. */
  preempt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Waits (at most `maxMs`) for a request that is writing to finish, e.g. one whose client just disconnected. */
  writerSettled(maxMs: number): Promise<void>;
  scheduleAlarm(atMs: number): Promise<void>;
  /** Told how many body bytes the request delivered, as they arrive (for the request's span). */
  countReceived?: (bytes: number) => void;
}

/** The authenticated request's view: which podcast asks, and where the upload lives. */
export interface RequestScope {
  podcastId: string;
  episodeId: string;
  /** The upload URL (tus Location). */
  uploadUrl: string;
  /** Epoch ms when the Durable Object received the request: the start of its span, and of the upload for a creation. */
  receivedAt: number;
}
