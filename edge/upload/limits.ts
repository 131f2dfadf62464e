import type { Env } from "../env.ts";

/** R2 multipart rules: every part but the last has the same size, 5 MiB..5 GiB, at most 10,000 parts. */
export const R2_MIN_PART_BYTES = 5 * 1024 * 1024;
export const R2_MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
export const R2_MAX_PARTS = 10_000;

export interface UploadLimits {
  /** Size of every multipart part but the last. */
  partBytes: number;
  /** Largest upload accepted: MAX_UPLOAD_BYTES, capped by what 10,000 parts can hold (Tus-Max-Size). */
  maxBytes: number;
  /** An unfinished upload expires this long after its last stored byte. */
  expirySeconds: number;
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/** Reads and checks the upload settings; a bad setting is a deployment error and fails loudly. */
export function uploadLimits(env: Pick<Env, "MAX_UPLOAD_BYTES" | "UPLOAD_PART_BYTES" | "UPLOAD_EXPIRY_SECONDS">): UploadLimits {
  const partBytes = positiveInteger("UPLOAD_PART_BYTES", env.UPLOAD_PART_BYTES, 10 * 1024 * 1024);
  if (partBytes < R2_MIN_PART_BYTES || partBytes > R2_MAX_PART_BYTES) {
    throw new Error(`UPLOAD_PART_BYTES must be between ${R2_MIN_PART_BYTES} and ${R2_MAX_PART_BYTES} (R2 multipart part limits)`);
  }
  const configuredMax = positiveInteger("MAX_UPLOAD_BYTES", env.MAX_UPLOAD_BYTES, 20 * 1024 ** 3);
  return {
    partBytes,
    maxBytes: Math.min(configuredMax, partBytes * R2_MAX_PARTS),
    expirySeconds: positiveInteger("UPLOAD_EXPIRY_SECONDS", env.UPLOAD_EXPIRY_SECONDS, 3 * 24 * 3600),
  };
}
