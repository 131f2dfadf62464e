/**
 * The R2 bucket through its S3 API. Audio moves as streams between R2 and the
 * job's folder; only small JSON records are ever held whole in memory.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  NoSuchKey,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Episode } from "../../shared/episode.ts";
import { episodeIndex } from "../../shared/episode-lifecycle.ts";
import type { ObjectStore, PutOptions, WriteCondition } from "./object-store.ts";

const EPISODE_RECORD = /^state\/episodes\/[^/]+\.json$/;

/** Episode records carry their state as object metadata, so the edge's sweep and listings need not read each one. */
function metadataFor(key: string, value: unknown): Record<string, string> | undefined {
  return EPISODE_RECORD.test(key) ? episodeIndex(value as Episode) : undefined;
}

export interface BucketConfig {
  s3Endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export type { PutOptions } from "./object-store.ts";

export class Bucket implements ObjectStore {
  readonly client: S3Client;
  readonly name: string;

  constructor(cfg: BucketConfig) {
    this.name = cfg.bucket;
    this.client = new S3Client({
      endpoint: cfg.s3Endpoint,
      region: "auto",
      forcePathStyle: true,
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
      // R2 (and wrangler's local endpoint) predate the SDK's default CRC32 checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 4,
    });
    // workerd never answers "100 Continue": without this, large PUTs stall for a second each.
    this.client.middlewareStack.remove("addExpectContinueMiddleware");
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      return JSON.parse(await res.Body!.transformToString()) as T;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return undefined;
      throw err;
    }
  }

  async putJson(key: string, value: unknown, cacheControl = "no-store"): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.name,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: "application/json",
        CacheControl: cacheControl,
        Metadata: metadataFor(key, value),
      }),
    );
  }

  async getJsonVersion<T>(key: string): Promise<{ value: T; etag: string } | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      return { value: JSON.parse(await res.Body!.transformToString()) as T, etag: res.ETag ?? "" };
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return undefined;
      throw err;
    }
  }

  async putJsonIf(key: string, value: unknown, condition: WriteCondition): Promise<string | undefined> {
    try {
      const res = await this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: JSON.stringify(value),
          ContentType: "application/json",
          CacheControl: "no-store",
          Metadata: metadataFor(key, value),
          ...("ifMatch" in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: condition.ifNoneMatch }),
        }),
      );
      return res.ETag ?? "";
    } catch (err) {
      if (preconditionFailed(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }));
  }

  async putText(key: string, body: string, opts: PutOptions): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentType: opts.contentType, CacheControl: opts.cacheControl }),
    );
  }

  async version(key: string): Promise<string | undefined> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }))).ETag ?? "";
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.$metadata?.httpStatusCode === 404 || e.name === "NotFound" || e.name === "NoSuchKey") return undefined;
      throw err;
    }
  }

  async putTextIf(key: string, body: string, opts: PutOptions, version: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: body,
          ContentType: opts.contentType,
          CacheControl: opts.cacheControl,
          IfMatch: version,
        }),
      );
      return true;
    } catch (err) {
      if (preconditionFailed(err)) return false;
      throw err;
    }
  }

  /** Streams an object to a file; returns its size. */
  async download(key: string, file: string, signal?: AbortSignal): Promise<number> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }), { abortSignal: signal });
    await pipeline(res.Body as Readable, createWriteStream(file), { signal });
    return (await stat(file)).size;
  }

  /** Streams a file up (multipart above 10 MiB, equal-sized parts as R2 requires); returns its size. */
  async upload(key: string, file: string, opts: PutOptions, signal?: AbortSignal): Promise<number> {
    const size = (await stat(file)).size;
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.name,
        Key: key,
        Body: createReadStream(file),
        ContentType: opts.contentType,
        CacheControl: opts.cacheControl,
      },
      partSize: 10 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    signal?.addEventListener("abort", () => void upload.abort(), { once: true });
    await upload.done();
    return size;
  }

  async listKeys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token }));
      for (const o of res.Contents ?? []) if (o.Key) out.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** A conditional write lost to another writer (412). */
function preconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.$metadata?.httpStatusCode === 412 || e.name === "PreconditionFailed";
}
