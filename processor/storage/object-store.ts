/**
 * What the pipeline needs from storage: small JSON records, streamed files,
 * listings. R2 (through its S3 API, bucket.ts) in production; a local folder
 * (folder.ts) for the bench and for runs without R2.
 */
export interface PutOptions {
  contentType: string;
  cacheControl?: string;
}

/** A conditional write: create only (`ifNoneMatch: "*"`) or replace only the version read (`ifMatch`). */
export type WriteCondition = { ifNoneMatch: "*" } | { ifMatch: string };

export interface ObjectStore {
  getJson<T>(key: string): Promise<T | undefined>;
  putJson(key: string, value: unknown, cacheControl?: string): Promise<void>;
  putText(key: string, body: string, opts: PutOptions): Promise<void>;
  /** An object's current version (ETag), or undefined when there is none. */
  version(key: string): Promise<string | undefined>;
  /** Writes text only if the object is still at `version`: false when another writer got there first (412). */
  putTextIf(key: string, body: string, opts: PutOptions, version: string): Promise<boolean>;
  /** Streams an object to a file; returns its size. */
  download(key: string, file: string, signal?: AbortSignal): Promise<number>;
  /** Streams a file up; returns its size. */
  upload(key: string, file: string, opts: PutOptions, signal?: AbortSignal): Promise<number>;
  listKeys(prefix: string): Promise<string[]>;
  /** A record with its ETag, for a conditional write after it. */
  getJsonVersion<T>(key: string): Promise<{ value: T; etag: string } | undefined>;
  /** Writes only if the condition holds: the new ETag, or undefined when another writer got there first (412). */
  putJsonIf(key: string, value: unknown, condition: WriteCondition): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}
