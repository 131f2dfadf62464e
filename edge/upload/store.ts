/**
 * Where an upload's bytes live while it is received, independent of the
 * backend (the protocol handlers and the Durable Object only see this).
 * Data is written as numbered parts of equal size that are later joined into
 * the final object, plus at most one staged "tail" smaller than a part.
 */

export interface StoredPart {
  partNumber: number;
  etag: string;
}

export interface UploadTarget {
  /** Key of the final object. */
  key: string;
  /** Id of the backend's multipart upload. */
  uploadId: string;
}

export interface UploadStore {
  /** Starts a multipart upload for the final object. */
  begin(key: string, contentType: string, metadata: Record<string, string>): Promise<UploadTarget>;
  /** Stores one part (every part but the last exactly the part size); the same number again replaces it. */
  writePart(target: UploadTarget, partNumber: number, bytes: Uint8Array): Promise<StoredPart>;
  /** Joins the parts into the final object. Safe to repeat once it has succeeded. */
  complete(target: UploadTarget, parts: StoredPart[], size: number): Promise<void>;
  /** Discards the multipart upload and its parts. Safe to repeat. */
  abort(target: UploadTarget): Promise<void>;
  /** Stages bytes that do not yet fill a part. */
  stageTail(key: string, bytes: Uint8Array): Promise<void>;
  /** Copies a staged tail into `into` (from index 0); returns its length. */
  readTail(key: string, into: Uint8Array): Promise<number>;
  /** Deletes objects by key (staged tails, an abandoned final object), or everything under a prefix. */
  deleteObjects(keys: string[]): Promise<void>;
  deleteObjectsUnder(prefix: string): Promise<void>;
}
