/** Reading and writing the local stack's R2 bucket through its S3 endpoint, as the processor does. */
import { type S3Client, GetObjectCommand, PutObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { LOCAL_S3 } from "../../local/stack.ts";
import { localS3 } from "../../local/s3.ts";

export { localS3 };

export async function putObject(s3: S3Client, key: string, body: string | Uint8Array, contentType?: string, cacheControl?: string) {
  await s3.send(
    new PutObjectCommand({ Bucket: LOCAL_S3.bucket, Key: key, Body: body, ContentType: contentType, CacheControl: cacheControl }),
  );
}

/** The object's bytes, or undefined when it does not exist. */
export async function getObject(s3: S3Client, key: string): Promise<Uint8Array | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: LOCAL_S3.bucket, Key: key }));
    return await res.Body!.transformToByteArray();
  } catch (err) {
    if ((err as { name?: string }).name === "NoSuchKey") return undefined;
    throw err;
  }
}

export async function objectExists(s3: S3Client, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: LOCAL_S3.bucket, Key: key }));
    return true;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "NotFound" || name === "NoSuchKey") return false;
    throw err;
  }
}

/** The object's custom metadata (R2's customMetadata, S3's x-amz-meta-*). */
export async function objectMetadata(s3: S3Client, key: string): Promise<Record<string, string>> {
  const res = await s3.send(new HeadObjectCommand({ Bucket: LOCAL_S3.bucket, Key: key }));
  return res.Metadata ?? {};
}

export async function listKeys(s3: S3Client, prefix: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: LOCAL_S3.bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
