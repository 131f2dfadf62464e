import type { StoredPart, UploadStore, UploadTarget } from "./store.ts";

/** UploadStore on an R2 bucket: R2 multipart for the parts, plain objects for staged tails. */
export class R2MultipartStore implements UploadStore {
  readonly #bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.#bucket = bucket;
  }

  async begin(key: string, contentType: string, metadata: Record<string, string>): Promise<UploadTarget> {
    const upload = await this.#bucket.createMultipartUpload(key, {
      httpMetadata: { contentType },
      customMetadata: metadata,
    });
    return { key, uploadId: upload.uploadId };
  }

  async writePart(target: UploadTarget, partNumber: number, bytes: Uint8Array): Promise<StoredPart> {
    const upload = this.#bucket.resumeMultipartUpload(target.key, target.uploadId);
    const part = await upload.uploadPart(partNumber, bytes);
    return { partNumber: part.partNumber, etag: part.etag };
  }

  async complete(target: UploadTarget, parts: StoredPart[], size: number): Promise<void> {
    const upload = this.#bucket.resumeMultipartUpload(target.key, target.uploadId);
    try {
      await upload.complete(parts);
    } catch (err) {
      // A repeat after a success that was not recorded (crash, lost reply): the object is already there.
      const existing = await this.#bucket.head(target.key);
      if (existing && existing.size === size) return;
      throw err;
    }
  }

  async abort(target: UploadTarget): Promise<void> {
    try {
      await this.#bucket.resumeMultipartUpload(target.key, target.uploadId).abort();
    } catch (err) {
      // Already aborted or completed: nothing left to release.
      if (!/does not exist|NoSuchUpload|10024/i.test(String(err))) throw err;
    }
  }

  async stageTail(key: string, bytes: Uint8Array): Promise<void> {
    await this.#bucket.put(key, bytes);
  }

  async readTail(key: string, into: Uint8Array): Promise<number> {
    const object = await this.#bucket.get(key);
    if (!object) throw new Error(`staged tail ${key} is missing`);
    if (object.size > into.length) throw new Error(`staged tail ${key} is larger than a part`);
    // Streamed into the part buffer: never a second copy of up to one part.
    let filled = 0;
    const reader = object.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      into.set(value, filled);
      filled += value.byteLength;
    }
    return filled;
  }

  async deleteObjects(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) await this.#bucket.delete(keys.slice(i, i + 1000));
  }

  async deleteObjectsUnder(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.#bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
      if (page.objects.length > 0) await this.#bucket.delete(page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
}
