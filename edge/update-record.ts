/**
 * Read-modify-write of a JSON record in R2 without losing a concurrent
 * writer's change: the write only succeeds if the record is still the one
 * read (R2 conditional put on its ETag); otherwise it is read and changed again.
 */
export class RecordGone extends Error {}

export interface UpdateOptions<T> {
  attempts?: number;
  /** Custom metadata written with the record (e.g. the episode index's state), from the new record. */
  customMetadata?: (next: T) => Record<string, string>;
}

export async function updateRecord<T>(
  bucket: R2Bucket,
  key: string,
  change: (current: T) => T | Promise<T>,
  { attempts = 8, customMetadata }: UpdateOptions<T> = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const obj = await bucket.get(key);
    if (!obj) throw new RecordGone(key);
    const next = await change((await obj.json()) as T);
    const written = await bucket.put(key, JSON.stringify(next), {
      httpMetadata: { contentType: "application/json" },
      ...(customMetadata ? { customMetadata: customMetadata(next) } : {}),
      onlyIf: { etagMatches: obj.etag },
    });
    if (written) return next;
    if (attempt >= attempts) throw new Error(`record ${key} kept changing; try again`);
    await new Promise((r) => setTimeout(r, 10 * attempt * Math.random()));
  }
}
