import type { Env } from "../env.ts";
import type { UploadCompleted, UploadStarted } from "./upload-events.ts";

/**
 * What happens to an episode when its upload starts, completes or is
 * abandoned. Called by the EpisodeUpload Durable Object.
 * (Being built: writes the episode record, ends `audio.upload`, enqueues the job.)
 */
export async function uploadStarted(_env: Env, _upload: UploadStarted): Promise<void> {}

/** Called exactly once per upload, after the source object is complete in R2. Throws if the job could not be enqueued (the DO then lets a retried PATCH try again). */
export async function uploadCompleted(_env: Env, _upload: UploadCompleted): Promise<void> {}

export type AbandonReason = "terminated" | "expired" | "rejected";

/** The upload ended without a complete file: terminated by the client (DELETE), expired, or rejected (not audio). */
export async function uploadAbandoned(_env: Env, _upload: UploadStarted, _reason: AbandonReason, _message: string): Promise<void> {}
