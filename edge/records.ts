/** JSON records (podcasts, episodes) kept in R2: the one way the edge reads and writes them. */
export async function readRecord<T>(bucket: R2Bucket, key: string): Promise<T | null> {
  const obj = await bucket.get(key);
  return obj ? ((await obj.json()) as T) : null;
}

export async function writeRecord(bucket: R2Bucket, key: string, record: unknown): Promise<void> {
  await bucket.put(key, JSON.stringify(record), { httpMetadata: { contentType: "application/json" } });
}
