/**
 * What the EpisodeUpload Durable Object persists about its one upload.
 *
 * Invariant after every save: offset = parts x partBytes + (tail?.bytes ?? 0).
 * Part etags live under their own keys ("part:00001"...) and are trusted only
 * up to `parts`, so a part written but not yet recorded is simply written
 * again; the record is saved after its part keys.
 */
import type { AbandonReason } from "../episodes/lifecycle.ts";
import type { UploadStarted, UploadTrace } from "../episodes/upload-events.ts";
import type { UploadMetadata } from "./metadata.ts";
import type { StoredPart, UploadTarget } from "./store.ts";
import { keys } from "../../shared/storage-keys.ts";

export interface ReceivingUpload {
  status: "receiving";
  episodeId: string;
  podcastId: string;
  /** Total size; null while deferred (creation-defer-length). */
  length: number | null;
  offset: number;
  /** Fixed at creation, so a later change of UPLOAD_PART_BYTES cannot break a running upload. */
  partBytes: number;
  /** Full parts stored and recorded. */
  parts: number;
  /** Staged bytes after the last full part; the key is versioned so a discarded chunk leaves the previous tail intact. */
  tail: { key: string; bytes: number } | null;
  tailVersion: number;
  /** The first bytes were recognised as audio. */
  sniffed: boolean;
  target: UploadTarget;
  metadata: UploadMetadata;
  /** Upload-Metadata as the client sent it, echoed by HEAD. */
  rawMetadata: string;
  createdAt: string;
  /** Epoch ms after which an unfinished upload is abandoned. */
  expiresAt: number;
  trace: UploadTrace;
  /** Set when the final object exists in storage. */
  storedAt: string | null;
  /** Set when uploadCompleted succeeded: the episode has its job. */
  completedAt: string | null;
}

export interface GoneUpload {
  status: "gone";
  episodeId: string;
  podcastId: string;
  reason: AbandonReason;
  message: string;
  at: string;
  /** What remains to be released or reported; retried by the alarm until done. */
  target: UploadTarget;
  /** The final object was already assembled and must be deleted too. */
  finalObject: boolean;
  stagedPrefix: string;
  released: boolean;
  reported: boolean;
  started: UploadStarted;
  /** Epoch ms after which even this tombstone is deleted (404 from then on). */
  forgetAt: number;
}

export type UploadRecord = ReceivingUpload | GoneUpload;

const RECORD = "upload";
const PART = "part:";
const partKey = (n: number) => PART + String(n).padStart(5, "0");

/** Where staged tails of this upload live (under the upload's private prefix). */
export function stagedPrefix(r: { podcastId: string; episodeId: string }): string {
  return `${keys.uploadPrefix(r.podcastId, r.episodeId)}tail/`;
}

export function tailKey(r: { podcastId: string; episodeId: string }, version: number): string {
  return `${stagedPrefix(r)}${String(version).padStart(8, "0")}`;
}

export function isComplete(r: ReceivingUpload): boolean {
  return r.completedAt !== null;
}

/** All bytes are in (a final object may still have to be assembled and reported). */
export function allBytesReceived(r: ReceivingUpload): boolean {
  return r.length !== null && r.offset === r.length;
}

export function startedEvent(r: ReceivingUpload): UploadStarted {
  return {
    episodeId: r.episodeId,
    podcastId: r.podcastId,
    title: r.metadata.title,
    ...(r.metadata.description ? { description: r.metadata.description } : {}),
    ...(r.metadata.details ? { details: r.metadata.details } : {}),
    filename: r.metadata.filename,
    ...(r.length !== null ? { size: r.length } : {}),
    sourceKey: r.target.key,
    createdAt: r.createdAt,
    trace: r.trace,
  };
}

export class UploadRecords {
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  read(): Promise<UploadRecord | undefined> {
    return this.#storage.get<UploadRecord>(RECORD);
  }

  /** Saves new part etags first, then the record that counts them. */
  async save(record: UploadRecord, newParts: StoredPart[] = []): Promise<void> {
    for (let i = 0; i < newParts.length; i += 100) {
      const batch: Record<string, string> = {};
      for (const p of newParts.slice(i, i + 100)) batch[partKey(p.partNumber)] = p.etag;
      await this.#storage.put(batch);
    }
    await this.#storage.put(RECORD, record);
  }

  /** The recorded parts 1..count, in order. */
  async parts(count: number): Promise<StoredPart[]> {
    const stored = await this.#storage.list<string>({ prefix: PART });
    const parts: StoredPart[] = [];
    for (let n = 1; n <= count; n++) {
      const etag = stored.get(partKey(n));
      if (etag === undefined) throw new Error(`etag of part ${n} is missing`);
      parts.push({ partNumber: n, etag });
    }
    return parts;
  }

  /** Drops the part etags once they are no longer needed. */
  async forgetParts(): Promise<void> {
    const keys = [...(await this.#storage.list({ prefix: PART })).keys()];
    for (let i = 0; i < keys.length; i += 128) await this.#storage.delete(keys.slice(i, i + 128));
  }

  /** Deletes everything, alarm included. */
  async forgetAll(): Promise<void> {
    await this.#storage.deleteAlarm();
    await this.#storage.deleteAll();
  }
}
